"""Tasks: datasets, state features, host-side readouts, metrics and memory capacity.

Pure numpy/scipy/scikit-learn (sktime is imported only inside the UCR/UEA loaders), so this
subpackage works without Brian2 or Lava.
"""
from __future__ import annotations

from .datasets import (TaskData, known_tasks, load_basic_motions, load_gunpoint,
                       load_japanese_vowels, load_lorenz, load_mackey_glass, load_task,
                       load_unit_test, load_user_data, lorenz63, mackey_glass, subset_task)
from .features import binned_counts, filtered_traces, final_state, frame_states
from .firing import firing_statistics
from .mc_drive import McDrive, drive_network, drive_payloads
from .memory_capacity import (MemoryCapacityResult, mc_input, memory_capacity,
                              memory_capacity_from_record)
from .metrics import accuracy, nrmse, spike_efficiency, spikes_per_inference, spiking_activity
from .readout import (FlooredStandardScaler, LogisticReadout, RidgeClassifierReadout, RidgeReadout,
                      evaluate_classification, evaluate_prediction)

__all__ = [
    "TaskData", "known_tasks", "load_task", "subset_task", "load_japanese_vowels",
    "load_basic_motions", "load_gunpoint", "load_unit_test", "load_mackey_glass", "load_lorenz",
    "load_user_data", "mackey_glass", "lorenz63",
    "binned_counts", "filtered_traces", "final_state", "frame_states",
    "MemoryCapacityResult", "mc_input", "memory_capacity", "memory_capacity_from_record",
    "McDrive", "drive_network", "drive_payloads", "firing_statistics",
    "accuracy", "nrmse", "spike_efficiency", "spikes_per_inference", "spiking_activity",
    "RidgeReadout", "RidgeClassifierReadout", "LogisticReadout", "FlooredStandardScaler",
    "evaluate_classification", "evaluate_prediction",
]
