"""Writes tests/forecast/fixtures/tiny-sqrt.onnx and its card: a 'quantile' graph that
returns sqrt(x - 1000) of the last two context values, so inputs below 1000 make NaN.
Tests use it to prove non-finite model output becomes a ModelError (or a counted fallback)."""
import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out_dir = os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'forecast', 'fixtures')
path = os.path.join(out_dir, 'tiny-sqrt.onnx')
nodes = [
    helper.make_node('Slice', ['context', 'starts', 'ends', 'axes'], ['last2']),
    helper.make_node('Sub', ['last2', 'thousand'], ['shifted']),
    helper.make_node('Sqrt', ['shifted'], ['root']),
    helper.make_node('Unsqueeze', ['root', 'axis1'], ['row']),
    helper.make_node('Concat', ['row', 'row', 'row'], ['quantiles'], axis=1),
]
inits = [numpy_helper.from_array(np.array(v, dtype=np.int64), n) for n, v in
         [('starts', [6]), ('ends', [8]), ('axes', [1]), ('axis1', [1])]]
inits.append(numpy_helper.from_array(np.array(1000.0, dtype=np.float32), 'thousand'))
graph = helper.make_graph(nodes, 'tiny_sqrt',
                          [helper.make_tensor_value_info('context', TensorProto.FLOAT, ['batch', 8])],
                          [helper.make_tensor_value_info('quantiles', TensorProto.FLOAT, ['batch', 3, 2])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, path)
card = {
    'schema': 'quantbook.model-card/1', 'name': 'tiny-sqrt', 'family': 'quantile', 'file': 'tiny-sqrt.onnx',
    'sha256': hashlib.sha256(open(path, 'rb').read()).hexdigest(), 'contextLength': 8, 'minContext': 4, 'horizon': 2,
    'quantileLevels': [0.1, 0.5, 0.9],
    'inputs': [{'name': 'context', 'dtype': 'float32', 'shape': ['batch', 8]}],
    'outputs': [{'name': 'quantiles', 'dtype': 'float32', 'shape': ['batch', 3, 2]}],
    'scaling': {'kind': 'inGraph', 'description': 'sqrt(x - 1000) of the last two values (test model)'},
}
with open(os.path.join(out_dir, 'tiny-sqrt.json'), 'w') as f:
    json.dump(card, f, indent=1)
    f.write('\n')
print('wrote', path)
