import { describe, expect, it } from "vitest";
import { Builtin, Upstream, apiPath, apiVersionOf, groupOf, keyOf, objectKey, parseKey, type ResourceType } from "./resources.js";

const server: ResourceType = { group: "altostack.io", version: "v1alpha1", kind: "Server", plural: "servers", namespaced: true };

describe("apiPath", () => {
  it.each([
    ["core collection, all namespaces", Builtin.Pod, undefined, undefined, undefined, "/api/v1/pods"],
    ["core namespaced collection", Builtin.Pod, "ns", undefined, undefined, "/api/v1/namespaces/ns/pods"],
    ["core object", Builtin.ConfigMap, "ns", "c", undefined, "/api/v1/namespaces/ns/configmaps/c"],
    ["core cluster-scoped object", Builtin.Namespace, undefined, "p-demo", undefined, "/api/v1/namespaces/p-demo"],
    ["subresource", Builtin.ServiceAccount, "ns", "sa", "token", "/api/v1/namespaces/ns/serviceaccounts/sa/token"],
    ["group object status", server, "p", "s1", "status", "/apis/altostack.io/v1alpha1/namespaces/p/servers/s1/status"],
    ["group cluster-scoped", Upstream.VirtualMachineClusterInstancetype, undefined, "m1.small", undefined, "/apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes/m1.small"],
    ["hyphenated plural", Upstream.NetworkAttachmentDefinition, "p", "net", undefined, "/apis/k8s.cni.cncf.io/v1/namespaces/p/network-attachment-definitions/net"],
    ["encodes names", Builtin.ConfigMap, "ns", "a b", undefined, "/api/v1/namespaces/ns/configmaps/a%20b"],
  ] as const)("%s", (_name, rt, namespace, name, subresource, expected) => {
    expect(apiPath(rt, namespace, name, subresource)).toBe(expected);
  });

  it.each([
    ["namespace on a cluster-scoped type", () => apiPath(Builtin.Node, "ns", "n1"), /cluster-scoped/],
    ["named namespaced object without namespace", () => apiPath(Builtin.Pod, undefined, "p1"), /no namespace/],
    ["subresource without a name", () => apiPath(Builtin.Pod, "ns", undefined, "log"), /needs a name/],
  ])("refuses %s", (_name, call, message) => {
    expect(call).toThrow(message);
  });
});

describe("type and key helpers", () => {
  it("apiVersionOf / groupOf", () => {
    expect(apiVersionOf(Builtin.Secret)).toBe("v1");
    expect(apiVersionOf(Builtin.Event)).toBe("events.k8s.io/v1");
    expect(groupOf("v1")).toBe("");
    expect(groupOf("kubevirt.io/v1")).toBe("kubevirt.io");
  });

  it("keys round-trip", () => {
    expect(objectKey("ns", "a")).toBe("ns/a");
    expect(objectKey(undefined, "a")).toBe("a");
    expect(keyOf({ metadata: { name: "a", namespace: "ns" } })).toBe("ns/a");
    expect(parseKey("ns/a")).toEqual({ namespace: "ns", name: "a" });
    expect(parseKey("a")).toEqual({ namespace: undefined, name: "a" });
  });

  it("built-in and upstream types are consistent", () => {
    for (const rt of [...Object.values(Builtin), ...Object.values(Upstream)]) {
      expect(rt.plural).toMatch(/^[a-z-]+$/);
      expect(rt.kind).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(Object.isFrozen(rt)).toBe(true);
    }
  });
});
