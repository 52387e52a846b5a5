// Tests of hack/kubectl-neat.mjs. Run: node --test hack/
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { neat } from "./kubectl-neat.mjs";

const server = {
  apiVersion: "altostack.io/v1alpha1",
  kind: "Server",
  metadata: {
    name: "vm",
    namespace: "project-demo",
    uid: "0b6f3c1e-1111-2222-3333-444455556666",
    resourceVersion: "812",
    generation: 3,
    creationTimestamp: "2026-11-22T10:00:00Z",
    finalizers: ["altostack.io/server"],
    managedFields: [{ manager: "altostack-facade", operation: "Apply" }],
    labels: { "applyset.kubernetes.io/part-of": "applyset-abc-v1", tier: "web" },
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", "altostack.io/user-id": "u-1" },
  },
  spec: { flavorRef: "m1.tiny", imageRef: "cirros" },
  status: { status: "ACTIVE" },
};
const ownedPort = {
  apiVersion: "altostack.io/v1alpha1",
  kind: "Port",
  metadata: { name: "vm-port", namespace: "project-demo", ownerReferences: [{ kind: "Server", name: "vm", uid: "x", controller: true }] },
  spec: { networkRef: "net" },
};

describe("kubectl-neat", () => {
  it("keeps spec and meaningful metadata, drops status and what the server or tools set", () => {
    const { yaml, skipped } = neat(JSON.stringify(server));
    const [only, ...more] = parseAllDocuments(yaml).map((d) => d.toJS());
    assert.equal(more.length, 0);
    assert.deepEqual(only, {
      apiVersion: "altostack.io/v1alpha1",
      kind: "Server",
      metadata: { name: "vm", namespace: "project-demo", labels: { tier: "web" }, annotations: { "altostack.io/user-id": "u-1" } },
      spec: { flavorRef: "m1.tiny", imageRef: "cirros" },
    });
    assert.deepEqual(skipped, []);
  });

  it("flattens Lists, leaves out objects a controller owns and names them", () => {
    const list = { apiVersion: "v1", kind: "List", items: [server, ownedPort] };
    const { yaml, skipped } = neat(JSON.stringify(list));
    assert.deepEqual(parseAllDocuments(yaml).map((d) => d.toJS().metadata.name), ["vm"]);
    assert.deepEqual(skipped, ["Port/project-demo/vm-port"]);
  });

  it("drops labels and annotations maps that end up empty", () => {
    const bare = { ...server, metadata: { name: "vm", labels: { "applyset.kubernetes.io/part-of": "x" }, annotations: {} } };
    const { yaml } = neat(JSON.stringify(bare));
    assert.deepEqual(parseAllDocuments(yaml)[0]?.toJS().metadata, { name: "vm" });
  });

  it("refuses input that is not Kubernetes objects", () => {
    assert.throws(() => neat("just: text\n"), /kind missing/);
    assert.throws(() => neat("a: [\n"), /not YAML/);
  });
});
