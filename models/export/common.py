"""Shared helpers of the foundation-model export scripts (models/export/*.py).

Every script has the same command line:

    python3 models/export/<family>.py --checkpoint DIR --out PREFIX [--name NAME] [--force]

and writes PREFIX.onnx (or PREFIX.<part>.onnx for several graphs), PREFIX.json (the
quantbook model card, with the sha256 of every graph) and PREFIX.parity.json (inputs and
PyTorch outputs on them, which tests replay through onnxruntime-node).

The Kronos and Toto scripts (kronos.py, toto.py) add their own flags (--tokenizer, --horizon,
--random-checkpoint, ...) and share every helper below with the Chronos ones.

What this file gives them: reading a checkpoint folder in the layout its authors publish
on Hugging Face (config.json plus model.safetensors or pytorch_model.bin), with an error
that names the folder and the files expected when one is missing; a safetensors reader
and writer with numpy only (Debian's python has no `safetensors` package); strict
loading by parameter name; sha256, JSON and card writing.

Needs torch (Debian's python3-torch 1.13 works) and onnx; no network.
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

OPSET = 17
CARD_SCHEMA = 'quantbook.model-card/1'


class ExportError(Exception):
    """A problem the user can fix (missing file, wrong layout); printed without a traceback."""


def fail(message):
    sys.stderr.write(f'error: {message}\n')
    sys.exit(2)


def run_main(main):
    """Runs main(), printing an ExportError as one line and exiting 2."""
    try:
        main()
    except ExportError as err:
        fail(str(err))


def need_torch():
    try:
        import torch  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as err:
        fail(f'the export needs PyTorch and onnx in this Python ({sys.executable}): {err}. '
             'On Debian: apt install python3-torch python3-onnx; or set PYTHON to an interpreter that has them')


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def floats(t):
    """A flat list of floats, NaN written as null (JSON has no NaN)."""
    a = np.asarray(t, dtype=np.float64).ravel()
    return [float(x) if np.isfinite(x) else None for x in a]


def recorded(t):
    """{dims, data} of a tensor or array (ints stay ints)."""
    a = np.asarray(t.detach().cpu().numpy() if hasattr(t, 'detach') else t)
    if a.dtype.kind in 'iub':
        return {'dims': list(a.shape), 'data': [int(x) for x in a.ravel()]}
    return {'dims': list(a.shape), 'data': floats(a)}


def ints(t):
    """A flat list of Python ints."""
    return [int(x) for x in np.asarray(t).ravel()]


def write_json(path, obj):
    """Writes obj as JSON (indent 1, trailing newline) through a temporary file; creates the folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1, allow_nan=False)
        f.write('\n')
    os.replace(tmp, path)


def read_config(checkpoint, what=None):
    """config.json of a checkpoint folder, with clear errors when it is missing or not JSON.

    what: names the folder's role in the errors (e.g. 'Kronos tokenizer') when a script reads several.
    """
    said = f'{what}: ' if what else ''
    if not os.path.isdir(checkpoint):
        raise ExportError(f'{said}checkpoint folder {checkpoint} does not exist: pass the folder holding config.json and '
                          'model.safetensors (or pytorch_model.bin), as downloaded from Hugging Face')
    path = os.path.join(checkpoint, 'config.json')
    if not os.path.isfile(path):
        raise ExportError(f'{said}{path} is missing: the checkpoint folder must hold the config.json published with the weights')
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as err:
        raise ExportError(f'{said}{path} is not valid JSON: {err}')


def need_key(config, key, path='config.json', where=None):
    obj = config if where is None else config.get(where, {})
    if key not in obj:
        name = key if where is None else f'{where}.{key}'
        raise ExportError(f'{path} has no "{name}": is this checkpoint of the expected family?')
    return obj[key]


def need_keys(config, keys, path):
    """config, after checking that it has every one of keys (all missing ones named at once)."""
    missing = [k for k in keys if k not in config]
    if missing:
        raise ExportError(f'{path}: config.json lacks {", ".join(missing)}')
    return config


# --- safetensors, numpy only -------------------------------------------------------------

_ST_DTYPES = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32,
              'I16': np.int16, 'U8': np.uint8, 'I8': np.int8, 'BOOL': np.bool_}


def read_safetensors(path):
    """{name: float32/int numpy array} of a .safetensors file (BF16 widened to float32)."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ExportError(f'{path} is not a safetensors file (too short)')
    (n,) = struct.unpack('<Q', raw[:8])
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as err:
        raise ExportError(f'{path} is not a safetensors file: bad header ({err})')
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        shape = info['shape']
        dt = info['dtype']
        if dt == 'BF16':
            u16 = np.frombuffer(data[start:end], dtype='<u2').astype(np.uint32) << 16
            arr = u16.view(np.float32).reshape(shape)
        elif dt in _ST_DTYPES:
            arr = np.frombuffer(data[start:end], dtype=np.dtype(_ST_DTYPES[dt]).newbyteorder('<')).reshape(shape)
        else:
            raise ExportError(f'{path}: tensor {name} has dtype {dt}, which this reader does not know')
        out[name] = arr.copy()
    return out


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: numpy array or torch tensor} as .safetensors, names sorted, as the reference writer does.

    dtypes F32, F64, F16, I64, I32; metadata (a str -> str dict, e.g. {'format': 'pt'} as PyTorch's
    save_file writes) goes in the header's "__metadata__" after the tensors.
    """
    rev = {np.dtype(np.float32): 'F32', np.dtype(np.float64): 'F64', np.dtype(np.float16): 'F16',
           np.dtype(np.int64): 'I64', np.dtype(np.int32): 'I32'}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        a = np.ascontiguousarray(t.detach().cpu().numpy() if hasattr(t, 'detach') else t)
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': rev[a.dtype], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header['__metadata__'] = metadata
    head = json.dumps(header, separators=(',', ':')).encode()
    head += b' ' * ((8 - len(head) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def read_weights(checkpoint):
    """State dict (name -> torch.Tensor, float32) of model.safetensors or pytorch_model.bin in the folder."""
    import torch
    st = os.path.join(checkpoint, 'model.safetensors')
    pt = os.path.join(checkpoint, 'pytorch_model.bin')
    if os.path.isfile(st):
        arrays = read_safetensors(st)
        state = {k: torch.from_numpy(v) for k, v in arrays.items()}
    elif os.path.isfile(pt):
        state = torch.load(pt, map_location='cpu')
        if not isinstance(state, dict):
            raise ExportError(f'{pt} does not hold a state dict (a mapping of parameter names to tensors)')
    else:
        sharded = [f for f in os.listdir(checkpoint) if f.endswith('.index.json')]
        extra = f' (found {sharded[0]}: sharded checkpoints are not supported, merge them first)' if sharded else ''
        raise ExportError(f'no weights in {checkpoint}: expected model.safetensors or pytorch_model.bin beside config.json{extra}')
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}


def load_strict(module, state, aliases=(), ignore=(), what='the checkpoint'):
    """Loads `state` into `module` by name with strict=True.

    aliases: groups of names that share one tensor in the published checkpoint (tied
    embeddings); a group member missing from the file is filled from one present.
    ignore: names the authors' loader also ignores (e.g. an unused lm_head).
    what: the weights as named in the errors (e.g. 'the tokenizer weights in DIR').
    Raises ExportError listing missing and unexpected names, and any shape mismatch.
    """
    state = {k: v for k, v in state.items() if k not in ignore}
    for group in aliases:
        present = [k for k in group if k in state]
        if present:
            for k in group:
                state.setdefault(k, state[present[0]])
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise ExportError(f'{what} does not match the architecture of its config.json: '
                          f'missing {missing[:8]}{"..." if len(missing) > 8 else ""}, '
                          f'unexpected {unexpected[:8]}{"..." if len(unexpected) > 8 else ""}')
    for k, v in own.items():
        if tuple(v.shape) != tuple(state[k].shape):
            raise ExportError(f'parameter {k} has shape {tuple(state[k].shape)} in {what}, '
                              f'{tuple(v.shape)} from config.json')
    module.load_state_dict(state, strict=True)


def check_onnx(path):
    import onnx
    onnx.checker.check_model(onnx.load(path))


def out_paths(prefix, force):
    """(folder, base name) of PREFIX, created; refuses to overwrite a card unless force."""
    folder = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(folder, exist_ok=True)
    if os.path.exists(prefix + '.json') and not force:
        raise ExportError(f'{prefix}.json exists: pass --force to overwrite it')
    return folder, os.path.basename(prefix)


def parse_args(description, argv=None):
    import argparse
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--checkpoint', required=True, help='folder with config.json and model.safetensors or pytorch_model.bin')
    p.add_argument('--out', required=True, help='output prefix: writes PREFIX.onnx, PREFIX.json, PREFIX.parity.json')
    p.add_argument('--name', help='model name in the card (default: the prefix base name)')
    p.add_argument('--force', action='store_true', help='overwrite an existing card')
    p.add_argument('--context', type=int, help="context length in the card (default: the checkpoint's)")
    return p.parse_args(argv)


def tensor_spec(name, dtype, shape):
    return {'name': name, 'dtype': dtype, 'shape': list(shape)}
