"""hrsnn_hw: heterogeneous recurrent spiking networks from design to a measured neuromorphic deployment."""
__version__ = "0.1.0"
