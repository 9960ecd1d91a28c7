"""Interchange with other neuromorphic tools: the Neuromorphic Intermediate Representation (NIR).

``to_nir`` / ``save_nir`` export a frozen network as ``input -> w_in -> lif <-> w_rec,
lif -> output`` (one CubaLIF layer); ``load_nir`` / ``from_nir`` bring such a graph back,
bit for bit if hrsnn_hw wrote it. The neuron mapping and what it approximates are in
:mod:`hrsnn_hw.interchange.convention`.
"""
from .convention import DECAYS, NIR_FORMAT, NIR_VERSION
from .nir_export import export_notes, to_nir
from .nir_files import load_nir, save_nir
from .nir_graph import RecurrentLayer, find_recurrent_layer
from .nir_import import NirImport, from_nir, import_nir

__all__ = ["to_nir", "from_nir", "import_nir", "NirImport", "save_nir", "load_nir", "export_notes",
           "find_recurrent_layer", "RecurrentLayer", "DECAYS", "NIR_FORMAT", "NIR_VERSION"]
