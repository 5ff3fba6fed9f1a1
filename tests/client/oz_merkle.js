// Reference side of tests/client/test_merkle.py: builds trees with the real @openzeppelin/merkle-tree.
// stdin: {"encoding": [...], "values": [...]} or a list of them; stdout: {"root", "proofs", "dump"}
// (proofs per original value index), or a list of those.
'use strict';
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

function build({ encoding, values }) {
  const tree = StandardMerkleTree.of(values, encoding);
  return {
    root: tree.root,
    proofs: values.map((_, i) => tree.getProof(i)),
    dump: tree.dump(),
  };
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', chunk => (input += chunk));
process.stdin.on('end', () => {
  const request = JSON.parse(input);
  const result = Array.isArray(request) ? request.map(build) : build(request);
  process.stdout.write(JSON.stringify(result));
});
