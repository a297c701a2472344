// The line protocol both workers speak with onnxproof: one JSON request per stdin line, one JSON
// reply per stdout line, in order. Tensors travel as {name, dtype, dims, data}: data is base64 of
// the raw little-endian bytes, so NaN, Inf and int64 arrive exactly.
'use strict';

const path = require('node:path');
const readline = require('node:readline');
const { createRequire } = require('node:module');

// stdout carries the protocol alone: anything a library logs goes to stderr instead.
const protocolOut = process.stdout.write.bind(process.stdout);
console.log = console.error;
console.info = console.error;
console.warn = console.error;
console.debug = console.error;

// The packages live in the cache folder onnxproof installed them into, not beside this script.
function cacheRequire(cacheDir) {
  return createRequire(path.join(cacheDir, 'package.json'));
}

function argument(name) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0 || at + 1 >= process.argv.length) {
    throw new Error(`missing --${name}`);
  }
  return process.argv[at + 1];
}

// ONNX element types as onnxruntime-js names them → the typed array that holds them.
const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  float16: Uint16Array,
};

function decodeTensor(ort, tensor) {
  const TypedArray = ARRAYS[tensor.dtype];
  if (!TypedArray) throw new Error(`unsupported input type ${tensor.dtype} for ${tensor.name}`);
  const bytes = Buffer.from(tensor.data, 'base64');
  // A fresh, aligned buffer: a decoded Buffer may sit at any offset of node's shared pool.
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return new ort.Tensor(tensor.dtype, new TypedArray(buffer), tensor.dims);
}

function encodeTensor(name, tensor) {
  const data = tensor.data;
  if (!ArrayBuffer.isView(data)) {
    throw new Error(`output ${name} has type ${tensor.type}, which onnxproof cannot read back`);
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { name, dtype: tensor.type, dims: Array.from(tensor.dims), data: bytes.toString('base64') };
}

// warmup untimed calls of run(), then iterations timed ones or as many as budgetMs allows (at
// least 5): milliseconds per call, read with performance.now() right around each call.
async function timeCalls(run, { warmup, iterations, budgetMs }) {
  for (let i = 0; i < warmup; i++) await run();
  const times = [];
  const deadline = performance.now() + budgetMs;
  for (;;) {
    const begin = performance.now();
    await run();
    const end = performance.now();
    times.push(end - begin);
    if (iterations !== null && iterations !== undefined) {
      if (times.length >= iterations) return times;
    } else if (end >= deadline && times.length >= 5) {
      return times;
    }
  }
}

function message(error) {
  return error && error.message ? error.message : String(error);
}

// Requests are handled one at a time, in arrival order; end of stdin ends the worker.
async function serve(handlers, onEnd) {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let request;
    let reply;
    try {
      request = JSON.parse(line);
      const handler = handlers[request.op];
      if (!handler) throw new Error(`unknown op ${request.op}`);
      reply = { id: request.id, ok: true, ...(await handler(request)) };
    } catch (error) {
      reply = { id: request ? request.id : null, ok: false, error: message(error) };
    }
    protocolOut(JSON.stringify(reply) + '\n');
    if (request && request.op === 'close') break;
  }
  await onEnd();
  // Nothing may keep the process alive once its session is gone (stdin, a browser's pipes).
  process.exit(0);
}

// The one line onnxproof reports when the worker cannot go on (before it could reply at all).
function fatal(error) {
  console.error(`fatal: ${message(error).split('\n')[0]}`);
  process.exit(1);
}

// A package from the cache, or a fatal line naming it.
function load(cacheDir, name) {
  try {
    return cacheRequire(cacheDir)(name);
  } catch (error) {
    fatal(new Error(`cannot load ${name} from ${cacheDir}: ${message(error).split('\n')[0]}`));
  }
}

module.exports = { argument, decodeTensor, encodeTensor, fatal, load, message, serve, timeCalls };
