"""reorder.greedy_order (incremental costs) picks exactly the ops of the plain definition,
written out here as the oracle: at every step recompute the ready set and each ready op's live
bytes after it runs from scratch, smallest first, ties by file order."""

import numpy as np
import pytest

from rnnedge.planner.lifetimes import align, arena_tensors
from rnnedge.planner.reorder import greedy_order
from rnnedge.tflite import Operator, Subgraph, Tensor, read_model


def _oracle(subgraph):
    ops = subgraph.operators
    sizes = {t: align(subgraph.tensors[t].nbytes) for t in arena_tensors(subgraph)}
    producer = {t: op.index for op in ops for t in op.outputs}
    readers = {}
    for op in ops:
        for t in op.inputs:
            if t >= 0:
                readers.setdefault(t, set()).add(op.index)
    done, order, live = set(), [], {t for t in subgraph.inputs if t in sizes}
    while len(order) < len(ops):
        choices = []
        for op in ops:
            if op.index in done or any(t in producer and producer[t] not in done
                                       for t in op.inputs if t >= 0):
                continue
            after = {t for t in live | {t for t in op.outputs if t in sizes}
                     if t in subgraph.outputs or readers.get(t, set()) - done - {op.index}}
            choices.append((sum(sizes[t] for t in after), len(choices), op, after))
        if not choices:
            return None
        _, _, op, live = min(choices)
        done.add(op.index)
        order.append(op.index)
    return order


def _random_graph(rng, n_ops):
    """A DAG: each op reads 1-3 earlier tensors (graph inputs, constants, earlier outputs,
    sometimes the same one twice) and writes 1-2 tensors; sizes from a few values (cost ties)."""
    n_inputs = int(rng.integers(1, 4))
    tensors, ops, available = [], [], []

    def tensor(constant=False):
        n = int(rng.choice([1, 16, 17, 64, 64, 200, 1024]))
        tensors.append(Tensor(index=len(tensors), name=f"t{len(tensors)}", shape=(n,),
                              type_name="INT8", dtype=np.dtype(np.int8), bits=8, buffer=0,
                              data=np.zeros(n, np.int8) if constant else None,
                              quantization=None))
        return len(tensors) - 1

    inputs = [tensor() for _ in range(n_inputs)]
    available += inputs
    for i in range(n_ops):
        ins = [available[int(rng.integers(max(0, len(available) - 8), len(available)))]
               for _ in range(int(rng.integers(1, 4)))]
        if rng.integers(0, 4) == 0:
            ins.append(tensor(constant=True))
        if rng.integers(0, 6) == 0:
            ins.append(-1)
        outs = [tensor() for _ in range(int(rng.integers(1, 3)))]
        available += outs
        ops.append(Operator(index=i, opcode="ADD", builtin_code=0, custom_code=None, version=1,
                            inputs=tuple(ins), outputs=tuple(outs), intermediates=(),
                            options={}, options_type=None))
    produced = [t for op in ops for t in op.outputs]
    outputs = tuple(sorted({produced[-1], *rng.choice(produced, 2).tolist()}))
    perm = rng.permutation(n_ops)  # file order need not be topological
    ops = [ops[p] for p in perm]
    ops = [Operator(**{**op.__dict__, "index": i}) for i, op in enumerate(ops)]
    return Subgraph(index=0, name="", tensors=tuple(tensors), operators=tuple(ops),
                    inputs=tuple(inputs), outputs=outputs)


@pytest.mark.parametrize("seed", range(30))
def test_greedy_order_equals_plain_definition_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    sg = _random_graph(rng, int(rng.integers(2, 60)))
    assert greedy_order(sg) == _oracle(sg)


def test_greedy_order_without_a_dag_is_none():
    rng = np.random.default_rng(0)
    sg = _random_graph(rng, 5)
    op = sg.operators[0]
    looped = Operator(**{**op.__dict__, "inputs": op.inputs + op.outputs[:1]})  # reads itself
    sg = Subgraph(**{**sg.__dict__, "operators": (looped, *sg.operators[1:])})
    assert greedy_order(sg) is None and _oracle(sg) is None


@pytest.mark.parametrize("name", ["resnet18_w02", "ds_cnn", "unet"])
def test_greedy_order_equals_plain_definition_on_tinyml_models(model_paths, name):
    sg = read_model(model_paths[name]).main
    assert greedy_order(sg) == _oracle(sg)
