"""Helpers shared by the Kronos and Toto export scripts (no network, no safetensors package).

`models/export/common.py` (branch fm-a) holds the project-wide versions of sha256 and card
writing; these are kept local to kronos.py / toto.py until the two are reconciled.

The safetensors format (https://github.com/huggingface/safetensors, README "Format"):
8 bytes little-endian u64 N, then N bytes of JSON header
{name: {"dtype": "F32"|"F16"|"BF16"|"I64"|..., "shape": [...], "data_offsets": [begin, end]},
"__metadata__": {...}}, then the raw little-endian tensor bytes (offsets relative to the end
of the header).
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np
import torch

OPSET = 17
CARD_SCHEMA = 'quantbook.model-card/1'

_DTYPES = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32,
           'I16': np.int16, 'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_}


def fail(msg):
    """Exits with a one-line message (what is missing and what was expected)."""
    sys.stderr.write(f'error: {msg}\n')
    sys.exit(2)


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def floats(t):
    return [float(x) for x in np.asarray(t, dtype=np.float64).ravel()]


def ints(t):
    return [int(x) for x in np.asarray(t).ravel()]


def write_json(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1, allow_nan=False)
        f.write('\n')


def read_config(folder, what):
    path = os.path.join(folder, 'config.json')
    if not os.path.isfile(path):
        fail(f'{what}: {path} not found; expected the folder as published (config.json + model.safetensors)')
    with open(path) as f:
        return json.load(f)


def need(config, keys, path):
    missing = [k for k in keys if k not in config]
    if missing:
        fail(f'{path}: config.json lacks {", ".join(missing)}')
    return config


def save_safetensors(path, state_dict, metadata=None):
    """Writes a state dict in the safetensors layout (tensors contiguous, little-endian)."""
    header, blobs, offset = {}, [], 0
    names = {np.float32: 'F32', np.float64: 'F64', np.float16: 'F16', np.int64: 'I64', np.int32: 'I32'}
    for name in sorted(state_dict):
        a = state_dict[name].detach().cpu().contiguous().numpy()
        code = names[a.dtype.type]
        data = a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': code, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Reads a safetensors file into a dict of torch tensors (BF16 is widened to float32)."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        fail(f'{path}: too short for a safetensors file')
    (n,) = struct.unpack('<Q', raw[:8])
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        fail(f'{path}: safetensors header is not JSON ({e})')
    base = 8 + n
    out = {}
    for name, spec in header.items():
        if name == '__metadata__':
            continue
        begin, end = spec['data_offsets']
        buf = raw[base + begin:base + end]
        if spec['dtype'] == 'BF16':
            u16 = np.frombuffer(buf, dtype='<u2').astype(np.uint32) << 16
            a = u16.view(np.float32)
        elif spec['dtype'] in _DTYPES:
            a = np.frombuffer(buf, dtype=np.dtype(_DTYPES[spec['dtype']]).newbyteorder('<'))
        else:
            fail(f'{path}: tensor {name} has dtype {spec["dtype"]}, not supported')
        out[name] = torch.from_numpy(a.reshape(spec['shape']).copy())
    return out


def load_weights(folder, what):
    """The state dict of a published checkpoint folder: model.safetensors, else pytorch_model.bin."""
    st = os.path.join(folder, 'model.safetensors')
    pt = os.path.join(folder, 'pytorch_model.bin')
    if os.path.isfile(st):
        return load_safetensors(st)
    if os.path.isfile(pt):
        return torch.load(pt, map_location='cpu')
    fail(f'{what}: neither {st} nor {pt} found; download the checkpoint folder as its authors publish it')


def load_strict(module, state, what, folder):
    """load_state_dict(strict=True) with float32 weights and a readable message on mismatch."""
    own = module.state_dict()
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [f'{k} {tuple(state[k].shape)} != {tuple(own[k].shape)}' for k in own if k in state and state[k].shape != own[k].shape]
    if missing or extra or shapes:
        fail(f'{what} in {folder} does not match the architecture of its config.json: '
             f'missing {missing[:5]}, unexpected {extra[:5]}, shapes {shapes[:5]}')
    module.load_state_dict(state, strict=True)


def tensor_spec(name, dtype, shape):
    return {'name': name, 'dtype': dtype, 'shape': shape}
