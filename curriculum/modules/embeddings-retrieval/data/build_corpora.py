"""How the two docstring corpora of this module were made (kept for provenance; not run by lessons).

The text is the documentation that ships inside installed packages: the docstrings of public functions,
classes and methods, read with `inspect.getdoc`. Each docstring is split into its one-line summary and
the rest (the "body"); the body keeps the description and the Parameters / Returns sections and drops
Examples, See Also, Notes and References, code lines and reST markup, and is cut at a word boundary.

    python build_corpora.py lesson  python_numpy_docs.csv      # lessons: Python 3.11 stdlib + NumPy 2.4
    python build_corpora.py applied ../assignments/embeddings-retrieval-docsearch/scipy_stack_docs.csv

Licences: Python's docstrings are under the PSF License 2.0; NumPy, pandas, scikit-learn and SciPy are
BSD-3-Clause. Built with Python 3.11.7, NumPy 2.4.6, pandas 3.1.1, scikit-learn 1.9.1, SciPy 1.17.1.
"""

import csv
import hashlib
import importlib
import inspect
import re
import sys
import warnings

warnings.filterwarnings("ignore")

DROP_SECTIONS = {"Examples", "Example", "See Also", "Notes", "References", "Warnings", "Warning",
                 "Attributes", "Methods", "Raises", "Yields", "Other Parameters", "Version Notes", "Note"}
HEADER = re.compile(r"^([A-Z][A-Za-z ]+)\n-{3,}\s*$", re.M)
SIGNATURE = re.compile(r"^[A-Za-z_][\w.]*\(.*\)\s*(->.*)?$")
ROLE = re.compile(r":(?:func|class|meth|ref|attr|mod|term|data|obj|py:\w+):`~?([^`<]*?)(?:\s*<[^>]*>)?`")


def clean(text, limit):
    for match in HEADER.finditer(text):
        if match.group(1).strip() in DROP_SECTIONS:
            text = text[: match.start()]
            break
    text = re.sub(r"\.\. (versionadded|versionchanged|deprecated)::.*", " ", text)
    text = re.sub(r"Read more in the :ref:`[^`]*`\.?", " ", text)
    text = ROLE.sub(r"\1", text).replace("``", "").replace("`", "")
    text = re.sub(r"^-{3,}\s*$", "", text, flags=re.M)
    text = re.sub(r">>>.*|\.\.\. .*", " ", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n\s*\n+", "\n", text).strip()
    if len(text) > limit:
        cut = text[:limit]
        text = cut[: cut.rfind(" ")] if " " in cut else cut
    return text


def split_summary(doc):
    doc = inspect.cleandoc(doc)
    while True:  # C functions start with their signature: skip it
        first, _, rest = doc.partition("\n")
        if SIGNATURE.match(first.strip()):
            doc = rest.lstrip("\n")
        else:
            break
    parts = doc.split("\n\n", 1)
    first, rest = " ".join(parts[0].split()), (parts[1] if len(parts) > 1 else "")
    if len(first) > 200 and ". " in first:  # a long first paragraph: its first sentence is the summary
        first, _, more = first.partition(". ")
        first, rest = first + ".", more + "\n\n" + rest
    return clean(first, 300), rest


def public_items(spec):
    """(qualified name, object) pairs of a module's public API, or of a class's public members."""
    if spec.startswith("class:"):
        path = spec[6:]
        owner, _, name = path.rpartition(".")
        cls = getattr(importlib.import_module(owner), name)
        return [(f"{path}.{n}", getattr(cls, n, None)) for n in sorted(dir(cls)) if not n.startswith("_")]
    module = importlib.import_module(spec)
    names = getattr(module, "__all__", None)
    items = []
    for n in sorted(names if names is not None else dir(module)):
        if n.startswith("_"):
            continue
        try:
            value = getattr(module, n, None)
        except ImportError:  # experimental scikit-learn estimators need an extra import: skip them
            continue
        home = getattr(value, "__module__", None) or ""
        if names is None and not (home == spec or home.startswith(spec + ".") or home.startswith(spec.split(".")[0] + "._")
                                  or spec == "builtins"):
            continue  # imported from elsewhere
        items.append((f"{spec}.{n}", value))
    return items


RENAME = {"pandas.core.strings.accessor.StringMethods": "pandas.Series.str",
          "pandas.core.groupby.DataFrameGroupBy": "pandas.DataFrameGroupBy",
          "pandas.core.window.rolling.Rolling": "pandas.Rolling"}


def collect(specs, limit):
    rows, seen_text, seen_obj, seen_name = [], set(), set(), set()
    for spec in specs:
        for name, value in public_items(spec):
            for old, new in RENAME.items():
                name = name.replace(old, new)
            if value is None or inspect.ismodule(value) or name in seen_name:
                continue
            if not (callable(value) or isinstance(value, property)):
                continue
            if not spec.startswith("class:"):
                if id(value) in seen_obj:
                    continue
                seen_obj.add(id(value))
            doc = inspect.getdoc(value)
            if not doc or len(doc) < 40:
                continue
            summary, rest = split_summary(doc)
            if not 12 <= len(summary) <= 200:
                continue
            body = clean(rest, limit)
            key = hashlib.md5((summary + "|" + body).encode()).hexdigest()
            if key in seen_text:
                continue
            seen_text.add(key)
            seen_name.add(name)
            kind = "class" if inspect.isclass(value) else "function"
            rows.append({"name": name, "package": name.split(".")[0], "kind": kind, "summary": summary, "body": body})
    return rows


STDLIB = ["builtins", "class:builtins.str", "class:builtins.list", "class:builtins.dict", "class:builtins.set",
          "class:builtins.bytes", "class:builtins.int", "class:builtins.float",
          "os", "os.path", "re", "itertools", "functools", "collections", "math", "cmath", "statistics",
          "random", "json", "datetime", "class:datetime.datetime", "class:datetime.date",
          "class:datetime.timedelta", "pathlib", "class:pathlib.Path", "shutil", "subprocess", "string",
          "textwrap", "heapq", "bisect", "csv", "urllib.parse", "hashlib", "time", "zipfile", "gzip", "tarfile",
          "sqlite3", "fractions", "class:decimal.Decimal", "unicodedata", "difflib", "glob", "fnmatch",
          "tempfile", "io", "copy", "pickle", "operator", "calendar", "base64", "struct", "array", "queue",
          "threading", "socket", "secrets", "uuid", "zlib", "locale", "codecs", "inspect", "html",
          "xml.etree.ElementTree", "logging", "contextlib", "dataclasses", "enum", "weakref", "gc", "platform",
          "signal", "shlex", "pprint", "traceback", "warnings", "sys", "typing", "types", "argparse",
          "configparser", "email.utils", "ipaddress", "mimetypes", "binascii", "colorsys", "filecmp",
          "getpass", "keyword", "linecache", "numbers", "reprlib", "sched", "stat", "timeit", "tokenize",
          "webbrowser", "concurrent.futures", "multiprocessing", "asyncio", "doctest", "unittest", "pdb",
          "cProfile", "pstats", "ast", "dis", "importlib", "abc"]
NUMPY = ["numpy", "numpy.linalg", "numpy.fft", "numpy.random", "class:numpy.random.Generator",
         "numpy.polynomial.polynomial", "class:numpy.ndarray", "numpy.lib.stride_tricks", "numpy.testing"]
SKLEARN = ["sklearn." + m for m in [
    "base", "calibration", "cluster", "compose", "covariance", "cross_decomposition", "datasets",
    "decomposition", "discriminant_analysis", "dummy", "ensemble", "feature_extraction",
    "feature_extraction.text", "feature_selection", "gaussian_process", "impute", "inspection", "isotonic",
    "kernel_approximation", "kernel_ridge", "linear_model", "manifold", "metrics", "metrics.pairwise",
    "mixture", "model_selection", "multiclass", "multioutput", "naive_bayes", "neighbors", "neural_network",
    "pipeline", "preprocessing", "random_projection", "semi_supervised", "svm", "tree", "utils"]]
APPLIED = (["pandas", "class:pandas.DataFrame", "class:pandas.Series",
            "class:pandas.core.strings.accessor.StringMethods", "class:pandas.core.groupby.DataFrameGroupBy",
            "class:pandas.core.window.rolling.Rolling", "class:pandas.Timestamp"] + SKLEARN
           + ["scipy.stats", "scipy.linalg", "scipy.optimize", "scipy.interpolate", "scipy.spatial.distance",
              "scipy.integrate", "scipy.cluster.hierarchy", "scipy.sparse.linalg"])

if __name__ == "__main__":
    which, out = sys.argv[1], sys.argv[2]
    rows = collect(STDLIB, 900) + collect(NUMPY, 1400) if which == "lesson" else collect(APPLIED, 480)
    fields = ["doc_id", "name", "package", "kind", "summary", "body"] if which == "lesson" else \
        ["doc_id", "name", "summary", "body"]
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for number, row in enumerate(rows):
            writer.writerow({"doc_id": number, **row})
    print(len(rows), "documents written to", out)
