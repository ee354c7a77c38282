"""Keeps third-party chatter (progress bars, advisory warnings) off the command line.

Hugging Face libraries draw ``Loading weights: 0%...`` bars and log advice meant for model
authors on every load; a user of `qa` can do nothing about either. They are silenced before
those libraries are imported, unless ``--verbose`` asks to see them.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

_LOGGERS = ("transformers", "sentence_transformers", "huggingface_hub", "torch", "faiss")


def silence_third_party(verbose: bool) -> None:
    """Quiet the libraries' own output; with ``verbose``, leave it all on and log at INFO."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        return
    # Read by the libraries when they are imported, so set here, before any of them is.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    # urllib3 (through requests, which pymilvus imports) warns that SOCKS proxies would need
    # PySocks whenever requests is first imported outside another library's quiet block.
    for module in ("transformers", "torch", "sentence_transformers", "huggingface_hub", "urllib3"):
        warnings.filterwarnings("ignore", module=module)
    if "transformers" in sys.modules:  # already imported (in tests, say): switch them off
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
