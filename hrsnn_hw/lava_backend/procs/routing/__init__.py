"""Routing between neuron groups: gather their spikes, scatter synaptic input, record their states.

Stock Lava ``LIF`` holds one ``du``/``dv``/``vth`` per process, so a heterogeneous network runs
as one process per neuron profile. Lava 0.10 cannot concatenate ports (``ConcatPort`` raises
``NotImplementedError``), and one ``Dense`` per pair of groups would need G**2 processes; these
processes move data between the groups and the network-wide ``Dense`` processes instead. They
do no arithmetic: every value passes through unchanged, in the same step (no added delay).
"""
from .models import gather_model, group_recorder_model, scatter_model
from .process import GroupStateRecorder, SpikeGather, SynapticScatter

__all__ = ["GroupStateRecorder", "SpikeGather", "SynapticScatter", "gather_model", "group_recorder_model",
           "scatter_model"]
