"""``python -m hrsnn_hw`` runs the ``hrsnn-hw`` command line."""
import sys

from .cli import main

sys.exit(main())
