"""Documents: audit the paperwork (spec sheets, tenders, contracts) before the equipment.

    commands.py   `camaudit docs scan PATH...` (registered by cli.py)
    run.py        walk paths, hash each file, read it in the worker, analyse, store
    worker.py     a child process per batch: bounded memory (RLIMIT_AS) and time per file,
                  killed and restarted when a hostile file hangs or crashes it
    extract.py    file -> pages of text, by the reader its first bytes call for:
      formats.py    sniffing (sans-IO)        pdf.py     PDFium text layer; OCR if scanned
      office.py     DOCX/XLSX + zip-bomb check  textfile.py plain text and HTML (lxml)
      ocr.py        Tesseract (eng + chi_sim) on a rendered page, when installed
    claims.py     vocabulary terms in sentences, scored; negations and law set aside
    models.py     model numbers -> makers through identify's model grammars and OEM links
    analyse.py    pages -> findings (restricted-maker via assess, analytics-claim, platform)
    vocabulary.py + data/vocabulary.yaml   the words searched for, each with its sources

Data flows one way: paths -> worker (extract) -> pages -> analyse -> store -> report.
camaudit detects *claims* of protected-trait analytics in documents; it never infers any
trait of a person. A file that cannot be read is one line and one stored record, and the
batch goes on. Exceptions: readers' errors become an ``Extracted.error`` in the worker
(its request loop is the boundary); usage errors are camaudit's own (``errors.py``).
"""
