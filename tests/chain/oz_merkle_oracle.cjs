// Oracle for tests/chain/test_merkle.py: OpenZeppelin's own StandardMerkleTree, driven over
// stdin/stdout so one node process answers every shape. Input: {"shapes": [{encoding, values,
// indices, pythonDump, pythonProofs, pythonMulti}]}; output: {"results": [...]} in the same order.
'use strict';
const path = require('path');

const lib = path.resolve(__dirname, '../../contracts/node_modules/@openzeppelin/merkle-tree');
const { StandardMerkleTree } = require(lib);

function answer(shape) {
  // (a) Python built and dumped: OZ must load it, agree on the root and accept every proof.
  const loaded = StandardMerkleTree.load(shape.pythonDump);
  const pythonProofsOk = shape.pythonProofs.map((proof, i) =>
    StandardMerkleTree.verify(loaded.root, shape.encoding, shape.pythonDump.values[i].value, proof),
  );
  const pythonMultiOk = StandardMerkleTree.verifyMultiProof(loaded.root, shape.encoding, shape.pythonMulti);
  // (b) OZ builds from the same values and dumps; Python must reproduce it.
  const built = StandardMerkleTree.of(shape.values, shape.encoding);
  const nodeProofs = shape.values.map((_, i) => built.getProof(i));
  return {
    loadedRoot: loaded.root,
    pythonProofsOk,
    pythonMultiOk,
    nodeDump: built.dump(),
    nodeProofs,
    nodeMulti: built.getMultiProof(shape.indices),
  };
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', chunk => (input += chunk));
process.stdin.on('end', () => {
  const { shapes } = JSON.parse(input);
  process.stdout.write(JSON.stringify({ results: shapes.map(answer) }));
});
