"""Build the Brian2 network of a :class:`~hrsnn_hw.spec.NetworkSpec` on a :class:`Timeline`.

Discrete-time model (the project's shared step semantics, float form). ``v`` here is the
membrane in Loihi's form, ``v' = v / (1 - alpha_v)``, compared with the threshold
``v_th / (1 - alpha_v)`` (:meth:`~hrsnn_hw.spec.NetworkSpec.loihi_threshold`); this is
exactly the spec's ``v = alpha_v v + (1 - alpha_v)(u + bias)`` and runs the same arithmetic
as the fixed-point model. Recorded ``v`` is converted back to the spec's units. Every object runs
on one clock of period ``spec.dt``; Brian2's schedule within a step is
``start -> groups -> thresholds -> synapses -> resets -> end`` and the model uses it so::

    start      (STDP traces x, y <- 0 at a segment start, plastic runs only)
    groups     keep = 0 at a segment start else 1           (1 - reset_next, see below)
               u   = alpha_u * (u * keep) + a_in * keep      a_in holds the spikes of step t-1
               a_in = 0
               cnt = cnt * keep;  ref = cnt > 0
               v   = 0 if ref else alpha_v * (v * keep) + u + bias
               cnt = cnt - ref
    thresholds spike = v > v_th and not ref                  (input generator emits x[t] here;
                                                              graded input: payload != 0, see below)
    synapses   on a spike at step t: a_in_post += w          (consumed at step t+1)
               plus STDP, see below
    resets     v = 0; cnt = refractory_steps
    end        StateMonitor (u, v after the reset of step t)

With ``keep == 1`` the update is bit for bit ``u = alpha_u*u + a_in`` and
``v = alpha_v*v + u + bias`` in float64, with ``alpha = exp(-dt/tau)`` computed in numpy.
Segment starts are signalled by a one-neuron spike generator that fires on the last step
of the previous segment and sets ``reset_next = 1`` in every neuron (a flag only, so the
state recorded at that step is untouched); a TimedArray would do the same but its length
is compiled into the code, which defeats the cython/standalone compile cache.
Graded input (an integer raster: payloads, the memory-capacity current drive) replaces the
generator by one unit per channel whose ``payload`` is read from a TimedArray in the ``start``
slot; it "fires" when the payload is nonzero and its synapses add ``w * payload`` in the
``synapses`` slot, so a payload p acts as a spike of weight ``p * w``, one step later.
The sum forming ``a_in`` adds the synapses of a step in Brian2's order (pathway by
pathway, presynaptic neuron by neuron), which is the same on every lane.

STDP (trace-based pair rule, per-synapse eta_plus, eta_minus, tau_plus, tau_minus). The
traces are Brian2 event-driven synaptic variables, i.e. exact exponentials between events:
``x(t) = x(t_last) * exp(-(t - t_last)/tau_plus)`` (same for ``y`` with ``tau_minus``).
In the ``synapses`` slot of step t, the presynaptic pathway runs before the postsynaptic
one, and within a pathway the weight changes before the trace jumps::

    on pre spike:   a_in_post += w          (the weight before this step's changes)
                    w = clip(w - eta_minus * y, 0, w_max);  x += 1
    on post spike:  w = clip(w + eta_plus * x, 0, w_max);   y += 1

So for one pre spike at step t_pre and one post spike at step t_post, Delta = (t_post -
t_pre) * dt: Delta >= 0 changes w by ``+eta_plus * exp(-Delta/tau_plus)`` (a simultaneous
pair potentiates by eta_plus) and Delta < 0 by ``-eta_minus * exp(Delta/tau_minus)``,
before clipping. Weight changes at step t act on the spikes of step t+1 onwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..spec import INPUT, NetworkSpec, Projection, StdpRule
from .timeline import Timeline, input_events, input_values

__all__ = ["BuiltNetwork", "build_network", "neuron_arrays", "run_steps", "check_compiled", "spike_steps",
           "collect_spikes", "collect_states", "STEP_CODE"]

NEURON_MODEL = """
u : 1
v : 1
a_in : 1
reset_next : 1
cnt : integer
is_ref : boolean
alpha_u : 1 (constant)
alpha_v : 1 (constant)
v_th : 1 (constant)
bias : 1 (constant)
ref_steps : integer (constant)
"""

SCHEDULE = ("start", "groups", "thresholds", "synapses", "resets", "end")

# One arithmetic operation per statement: Brian2 passes expressions through sympy, which
# may reorder sums and products; single operations keep the float64 result of each step
# exactly (alpha_u*u) + a_in and ((alpha_v*v) + u) + bias, as the shared semantics write it.
STEP_CODE = """
_keep = 1 - reset_next
reset_next = 0
_u_kept = u * _keep
_a_kept = a_in * _keep
_u_decayed = alpha_u * _u_kept
u = _u_decayed + _a_kept
a_in = 0
cnt = cnt * int(_keep)
is_ref = cnt > 0
_v_kept = v * _keep
_v_decayed = alpha_v * _v_kept
_v_plus_u = _v_decayed + u
_v_new = _v_plus_u + bias
v = int(not is_ref) * _v_new
cnt = cnt - int(is_ref)
"""

STDP_MODEL = """
w : 1
eta_plus : 1 (constant)
eta_minus : 1 (constant)
tau_plus : second (constant)
tau_minus : second (constant)
w_max : 1 (constant, shared)
dx/dt = -x / tau_plus : 1 (event-driven)
dy/dt = -y / tau_minus : 1 (event-driven)
"""
STDP_ON_PRE = """
a_in_post += w
w = clip(w - eta_minus * y, 0, w_max)
x += 1
"""
STDP_ON_POST = """
w = clip(w + eta_plus * x, 0, w_max)
y += 1
"""


def neuron_arrays(spec: NetworkSpec) -> dict[str, np.ndarray]:
    """Per-neuron step parameters: decay factors, threshold, bias, refractory steps."""
    dt = spec.dt
    return {
        "alpha_u": np.exp(-dt / spec.neuron_param("tau_syn")),
        "alpha_v": np.exp(-dt / spec.neuron_param("tau_m")),
        # The model's v is run in Loihi's form (gain 1 per step); see NetworkSpec.loihi_threshold.
        "v_th": spec.loihi_threshold(),
        "bias": spec.neuron_param("bias"),
        "ref_steps": np.rint(spec.neuron_param("refractory") / dt).astype(np.int64),
    }


@dataclass
class BuiltNetwork:
    """The Brian2 objects of one run (lives only inside a ``brian_session``)."""

    net: Any
    neurons: Any
    spike_monitor: Any
    state_monitor: Any | None
    namespace: dict
    n_neurons: int
    plastic: dict[str, Any] = field(default_factory=dict)
    weight_monitors: dict[str, Any] = field(default_factory=dict)


def _lane_indices(idx: np.ndarray, n_lanes: int, stride: int) -> np.ndarray:
    return (idx[None, :].astype(np.int64) + stride * np.arange(n_lanes, dtype=np.int64)[:, None]).ravel()


def build_network(b2: Any, spec: NetworkSpec, timeline: Timeline, input_spikes: np.ndarray,
                  lengths: np.ndarray, *, plastic: bool = False, record_states: bool = False,
                  snapshot_steps: int | None = None) -> BuiltNetwork:
    """Create the neurons, input generator, synapses and monitors of a run.

    Parameters
    ----------
    b2 : module
        The imported ``brian2`` module (from the active session).
    spec : NetworkSpec
        The network; its weights are used as they are.
    timeline : Timeline
        Lanes and segments; the generator gets the input spikes laid out on it.
    input_spikes, lengths : ndarray
        Input raster (n_samples, n_steps, n_input) and valid steps per sample.
    plastic : bool
        Give projections with an STDP rule plastic synapses (requires one lane).
    record_states : bool
        Add a StateMonitor of u and v (after the reset of each step).
    snapshot_steps : int, optional
        Record plastic weights every that many steps (at the start of a step), for
        per-epoch statistics on the standalone target.
    """
    second = b2.second
    lanes = timeline.n_lanes
    n = spec.n_neurons
    dt = spec.dt
    clock = b2.Clock(dt=dt * second, name="hrsnn_clock")
    namespace: dict = {}

    neurons = b2.NeuronGroup(lanes * n, NEURON_MODEL, threshold="v > v_th and not is_ref",
                             reset="v = 0\ncnt = ref_steps", clock=clock, name="hrsnn_neurons")
    for name, values in neuron_arrays(spec).items():
        setattr(neurons, name, np.tile(values, lanes))
    neurons.run_regularly(STEP_CODE, when="groups", name="hrsnn_step")

    graded = input_spikes.dtype != bool
    if graded:
        # Graded input (integer payloads, e.g. the memory-capacity current drive): one unit per
        # channel reads its payload of step t from a TimedArray and "fires" when it is nonzero,
        # so its synapses add w * payload in the synapses slot of step t, consumed at t + 1,
        # exactly like a spike of weight w * payload.
        namespace["hrsnn_graded_input"] = b2.TimedArray(input_values(timeline, input_spikes, lengths),
                                                        dt=dt * second)
        generator = b2.NeuronGroup(lanes * spec.n_input, "payload : 1", threshold="payload != 0",
                                   clock=clock, name="hrsnn_input")
        generator.run_regularly("payload = hrsnn_graded_input(t, i)", when="start", name="hrsnn_input_payload")
    else:
        idx, steps = input_events(timeline, input_spikes, lengths)
        generator = b2.SpikeGeneratorGroup(lanes * spec.n_input, idx, steps * dt * second, clock=clock,
                                           sorted=True, name="hrsnn_input")
    objects: list[Any] = [neurons, generator]
    if timeline.reset and timeline.n_segments > 1:
        # Fires on the last step of every segment but the last: the next step starts from zero.
        ends = (timeline.seg_start[1:] - 1)[timeline.seg_len[1:] > 0]
        reset_source = b2.SpikeGeneratorGroup(1, np.zeros(ends.size, dtype=np.int64), ends * dt * second,
                                              clock=clock, sorted=True, name="hrsnn_reset_source")
        resetter = b2.Synapses(reset_source, neurons, on_pre="reset_next_post = 1", clock=clock,
                               name="hrsnn_reset")
        resetter.connect(i=np.zeros(lanes * n, dtype=np.int64), j=np.arange(lanes * n))
        objects += [reset_source, resetter]

    rules = {r.projection: r for r in spec.stdp} if plastic else {}
    static: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {"in": [], "rec": []}
    plastic_syn: dict[str, Any] = {}
    weight_monitors: dict[str, Any] = {}
    for proj in spec.projections:
        post, pre = spec.global_indices(proj)
        stride_pre = spec.n_input if proj.pre == INPUT else n
        pre_l = _lane_indices(pre, lanes, stride_pre)
        post_l = _lane_indices(post, lanes, n)
        w_l = np.tile(proj.weight, lanes)
        rule = rules.get(proj.name)
        if rule is not None and graded and proj.pre == INPUT:
            from ..errors import DataError
            raise DataError("STDP on an input projection needs binary input spikes", parameter="input_spikes",
                            value="integer payloads", allowed="a bool raster while input synapses are plastic",
                            hint="train with spike rasters; graded input is for frozen-weight runs")
        if rule is None:
            static["in" if proj.pre == INPUT else "rec"].append((pre_l, post_l, w_l))
            continue
        k = len(plastic_syn)
        syn = _plastic_synapses(b2, proj, rule, generator if proj.pre == INPUT else neurons, neurons,
                                pre_l, post_l, w_l, lanes, clock, f"hrsnn_stdp{k}")
        # Zero the traces at sample starts so samples do not leak into each other.
        syn.run_regularly("_keep = 1 - reset_next_post\nx = x * _keep\ny = y * _keep", when="start",
                          name=f"hrsnn_stdp{k}_reset")
        plastic_syn[proj.name] = syn
        objects.append(syn)
        if snapshot_steps:
            mon = b2.StateMonitor(syn, "w", record=True, dt=snapshot_steps * dt * second, when="start",
                                  name=f"hrsnn_wmon{k}")
            weight_monitors[proj.name] = mon
            objects.append(mon)
    for kind, parts in static.items():
        if not parts or not sum(p[0].size for p in parts):
            continue
        source = generator if kind == "in" else neurons
        on_pre = "a_in_post += w * payload_pre" if (graded and kind == "in") else "a_in_post += w"
        syn = b2.Synapses(source, neurons, model="w : 1 (constant)", on_pre=on_pre,
                          clock=clock, name=f"hrsnn_syn_{kind}")
        syn.connect(i=np.concatenate([p[0] for p in parts]), j=np.concatenate([p[1] for p in parts]))
        syn.w = np.concatenate([p[2] for p in parts])
        objects.append(syn)

    spike_mon = b2.SpikeMonitor(neurons, name="hrsnn_spikes")
    objects.append(spike_mon)
    state_mon = None
    if record_states:
        state_mon = b2.StateMonitor(neurons, ["u", "v"], record=True, when="end", clock=clock,
                                    name="hrsnn_states")
        objects.append(state_mon)
    net = b2.Network(*objects, name="hrsnn_network")
    # The step semantics rely on this slot order; a user's global preference must not change it.
    net.schedule = list(SCHEDULE)
    return BuiltNetwork(net=net, neurons=neurons, spike_monitor=spike_mon, state_monitor=state_mon,
                        namespace=namespace, n_neurons=n, plastic=plastic_syn, weight_monitors=weight_monitors)


def _plastic_synapses(b2: Any, proj: Projection, rule: StdpRule, source: Any, target: Any,
                      pre_l: np.ndarray, post_l: np.ndarray, w_l: np.ndarray, lanes: int,
                      clock: Any, name: str) -> Any:
    syn = b2.Synapses(source, target, model=STDP_MODEL, on_pre=STDP_ON_PRE, on_post=STDP_ON_POST,
                      clock=clock, name=name)
    syn.connect(i=pre_l, j=post_l)
    syn.w = w_l
    syn.eta_plus = np.tile(rule.eta_plus, lanes)
    syn.eta_minus = np.tile(rule.eta_minus, lanes)
    syn.tau_plus = np.tile(rule.tau_plus, lanes) * b2.second
    syn.tau_minus = np.tile(rule.tau_minus, lanes) * b2.second
    syn.w_max = rule.w_max
    # Depression (pre pathway) before potentiation (post pathway) within a step, explicitly.
    syn.pre.order = 0
    syn.post.order = 1
    return syn


def spike_steps(b2: Any, built: BuiltNetwork, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(global neuron index, global step) of every recorded spike."""
    mon = built.spike_monitor
    i = np.asarray(mon.i[:], dtype=np.int64)
    t = np.asarray(mon.t_[:], dtype=np.float64)
    return i, np.rint(t / dt).astype(np.int64)


def run_steps(b2: Any, built: BuiltNetwork, steps: int, dt: float, report: Any = None) -> None:
    """Advance the network by ``steps`` steps (no-op for 0).

    Each ``Network.run`` call re-creates every code object (~0.5 s), so callers run long
    stretches at once; ``report(fraction_done)`` is called about once a second (runtime
    targets only).
    """
    if steps <= 0:
        return
    kwargs: dict[str, Any] = {}
    from brian2.devices.device import RuntimeDevice
    if report is not None and isinstance(b2.get_device(), RuntimeDevice):
        kwargs = {"report": lambda elapsed, done, start, duration: report(float(done)),
                  "report_period": 1 * b2.second}
    built.net.run(steps * dt * b2.second, namespace=built.namespace, **kwargs)


def check_compiled(built: BuiltNetwork) -> None:
    """Raise if a Cython code object failed to compile.

    Brian2's Cython runtime turns a Cython compile error into a code object that silently
    does nothing; a run would then produce plausible but wrong results.
    """
    from ..errors import BackendError
    for obj in built.net.sorted_objects:
        for codeobj in getattr(obj, "_code_objects", ()):
            compiled = getattr(codeobj, "compiled_code", None)
            if not isinstance(compiled, dict):
                continue
            for block, module in compiled.items():
                source = getattr(codeobj.code, block, "") or ""
                if module is None and source.strip() and "EMPTY_CODE_BLOCK" not in source:
                    raise BackendError("Brian2 could not compile generated Cython code", parameter="target",
                                       value="cython", hint="use target='numpy'; the Cython error is printed above")


def collect_spikes(b2: Any, built: BuiltNetwork, timeline: Timeline, lengths: np.ndarray,
                   n_samples: int, n_steps: int, dt: float) -> np.ndarray:
    """Recorded spikes as (n_samples, n_steps, n_neurons) bool; padding steps stay False."""
    n = built.n_neurons
    out = np.zeros((n_samples, n_steps, n), dtype=bool)
    i, steps = spike_steps(b2, built, dt)
    if i.size == 0:
        return out
    lane, neuron = np.divmod(i, n)
    sample, local = timeline.locate(steps, lane)
    valid = sample >= 0
    valid[valid] &= local[valid] < lengths[sample[valid]]
    out[sample[valid], local[valid], neuron[valid]] = True
    return out


def collect_states(built: BuiltNetwork, timeline: Timeline, lengths: np.ndarray, n_samples: int,
                   n_steps: int) -> dict[str, np.ndarray]:
    """Recorded u and v as (n_samples, n_steps, n_neurons) float64; padding steps are 0."""
    n = built.n_neurons
    out = {}
    for name in ("u", "v"):
        # The monitor's storage is (recorded steps, recorded neurons).
        values = np.asarray(built.state_monitor.variables[name].get_value(), dtype=np.float64)
        arr = np.zeros((n_samples, n_steps, n), dtype=np.float64)
        for k in range(timeline.n_segments):
            start, length = int(timeline.seg_start[k]), int(timeline.seg_len[k])
            block = values[start:start + length].reshape(length, timeline.n_lanes, n)
            for lane, b in enumerate(timeline.lane_sample[k]):
                if b >= 0:
                    arr[b, :lengths[b]] = block[:lengths[b], lane]
        out[name] = arr
    return out
