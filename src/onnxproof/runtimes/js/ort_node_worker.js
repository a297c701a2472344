// onnxruntime-node behind onnxproof's line protocol: one process per loaded model.
'use strict';

const { argument, decodeTensor, encodeTensor, fatal, load, serve, timeCalls } = require('./protocol.js');

const ort = load(argument('cache'), 'onnxruntime-node');

let session = null;

const handlers = {
  async load(request) {
    ort.env.logLevel = 'error';
    session = await ort.InferenceSession.create(request.model, {
      executionProviders: ['cpu'],
      logSeverityLevel: 3,
    });
    return {
      // The types as the runtime read them from the file: feeds are checked against them.
      inputs: session.inputMetadata.map((m) => ({ name: m.name, type: m.isTensor ? m.type : null })),
      outputs: session.outputNames,
      details: { package: `onnxruntime-node ${ort.env.versions.node}`, node: process.version },
    };
  },
  async run(request) {
    if (!session) throw new Error('no model is loaded');
    const feeds = {};
    for (const tensor of request.feeds) feeds[tensor.name] = decodeTensor(ort, tensor);
    const results = await session.run(feeds);
    return { outputs: session.outputNames.map((name) => encodeTensor(name, results[name])) };
  },
  async time(request) {
    if (!session) throw new Error('no model is loaded');
    const feeds = {};
    for (const tensor of request.feeds) feeds[tensor.name] = decodeTensor(ort, tensor);
    return { times_ms: await timeCalls(() => session.run(feeds), request) };
  },
  async close() {
    return {};
  },
};

serve(handlers, async () => {
  if (session) await session.release();
}).catch(fatal);
