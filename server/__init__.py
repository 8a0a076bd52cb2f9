"""The lstm-complete language server."""

import os

# Inference is numpy over OpenBLAS, which reads this once, when numpy is first imported (so here,
# before anything imports numpy). One thread, as torch had: the other core stays with the editor
# and any training, and small matrix products gain nothing from a second thread.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
