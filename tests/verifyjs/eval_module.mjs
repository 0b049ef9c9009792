// Imports the verifier's modules and evaluates small calls given on stdin as JSON:
// [{id, fn: "leaf" | "fold" | "recover" | "selectors" | "context", args: [...]}]. Used by
// test_merkle.py and test_eventhash.py.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [staticDir] = process.argv.slice(2);
const load = (name) => import(pathToFileURL(`${staticDir}/${name}`).href);
const merkle = await load('merkle.js');
const signature = await load('signature.js');
const chain = await load('chain.js');
const { EPCIS_TERMS } = await load('epcis-context.js');
await load('verify.js'); // the DOM module must import cleanly without a document

const fns = {
  leaf: (digest, lotKey, signer) => merkle.checkpointLeaf(digest, lotKey, signer),
  fold: (leaf, proof) => merkle.processProof(leaf, proof),
  recover: (params, sig) => signature.recoverCheckpointSigner(params, sig),
  selectors: () => ({ ...chain.SELECTORS, CheckpointRecorded: chain.CHECKPOINT_RECORDED_TOPIC }),
  context: () => EPCIS_TERMS,
};
const out = [];
for (const { id, fn, args } of JSON.parse(readFileSync(0, 'utf8'))) {
  try {
    out.push({ id, value: fns[fn](...(args || [])) });
  } catch (error) {
    out.push({ id, error: `${error.name}: ${error.message}` });
  }
}
process.stdout.write(JSON.stringify(out));
