// gophercloud v2 (the Go SDK behind Terraform's OpenStack provider) against the facade: the proof program in
// e2e/gophercloud, built once into the cache by hack/gophercloud-check.sh, creates a network, a subnet and a server,
// waits for ACTIVE, lists both, deletes them. gophercloud checks every status code exactly.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageKind, networkKind, serverKind, type Image } from "../src/api/index.js";
import { repoRoot } from "../src/devenv/crds.js";
import { http, issueToken, projectWithUser, startFacadeEnv, type FacadeEnv } from "./facade-helpers.js";
import { eventually, testClient, unique } from "./helpers.js";

let env: FacadeEnv;
let binary: string;

function buildGophercloudCheck(): Promise<string> {
  return new Promise((resolve, reject) => {
    const script = path.join(repoRoot(), "hack", "gophercloud-check.sh");
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (out += chunk));
    child.on("close", (code) => {
      const bin = out.trim().split("\n").pop() ?? "";
      if (code === 0 && bin !== "") resolve(bin);
      else reject(new Error(`${script} failed (exit ${String(code)})`));
    });
  });
}

beforeAll(async () => {
  binary = await buildGophercloudCheck(); // the first build downloads gophercloud (pinned in go.sum), later runs are cached
  env = await startFacadeEnv({ simulator: true });
}, 300_000);

afterAll(async () => {
  await env.stop();
});

/** Runs the proof program with these credentials in its environment; its output tells every step. */
function runCheck(args: string[], credentials: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      binary,
      [...args, "-timeout", "150s"],
      { timeout: 180_000, env: { PATH: process.env.PATH, HOME: process.env.HOME, OS_REGION_NAME: "RegionOne", ...credentials } },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe("gophercloud", () => {
  let member: Awaited<ReturnType<typeof projectWithUser>>;
  let namespace: string;
  const flavor = unique("gc.small");

  beforeAll(async () => {
    member = await projectWithUser(env, { role: "member" });
    namespace = `project-${member.project}`;
    const created = await http(env, "POST", "/compute/v2.1/flavors", {
      token: await issueToken(env, env.admin),
      body: { flavor: { name: flavor, vcpus: 1, ram: 256, disk: 1 } },
    });
    expect(created.status).toBe(200);
    // The image's data path is the storage issue's; an image imported from a URL serves here.
    await testClient().create<Image>(imageKind, {
      apiVersion: imageKind.apiVersion,
      kind: imageKind.kind,
      metadata: { name: "cirros", namespace },
      spec: { source: { http: { url: "http://images.example/cirros.qcow2" } }, diskFormat: "qcow2" },
    });
  }, 120_000);

  afterAll(async () => {
    await testClient().delete(imageKind, "cirros", namespace);
  });

  const expectCleanedUp = async () => {
    // What it made went through the CRDs and is gone again (a network's finalizer lets go once its NAD is gone).
    expect((await testClient().list(serverKind, { namespace })).items).toEqual([]);
    await eventually("the network object gone", async () => (await testClient().list(networkKind, { namespace })).items.length === 0);
  };

  it("with a password from OS_* variables: creates a network, a subnet and a server, sees them listed, deletes them — every status code as gophercloud expects", async () => {
    const result = await runCheck(["-flavor", flavor, "-image", "cirros", "-name", "gc", "-cidr", "10.98.0.0/24"], {
      // Ending in /v3/ makes gophercloud skip version discovery, as most deployments configure it.
      OS_AUTH_URL: `${env.facade.url}/identity/v3/`,
      OS_USERNAME: member.user,
      OS_PASSWORD: member.password,
      // gophercloud reads one OS_DOMAIN_NAME for both the user's and the project's domain.
      OS_DOMAIN_NAME: "Default",
      OS_PROJECT_NAME: member.project,
    });
    // The program's own account of every step is the failure message.
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/server list \(1 servers\) has /);
    expect(result.output).toMatch(/PASS: every step succeeded/);
    await expectCleanedUp();
  }, 240_000);

  it("with an application credential from clouds.yaml (OS_CLOUD), with version discovery: the same round trip", async () => {
    const token = await issueToken(env, member);
    const created = await http(env, "POST", `/identity/v3/users/${member.userId}/application_credentials`, {
      token,
      body: { application_credential: { name: unique("gc-cred") } },
    });
    expect(created.status, created.text).toBe(201);
    const credential = (created.body as { application_credential: { id: string; secret: string } }).application_credential;
    const dir = await mkdtemp(path.join(os.tmpdir(), "altostack-gophercloud-"));
    try {
      const cloudsYaml = path.join(dir, "clouds.yaml");
      await writeFile(
        cloudsYaml,
        stringify({
          clouds: {
            altostack: {
              auth_type: "v3applicationcredential",
              auth: { auth_url: `${env.facade.url}/identity`, application_credential_id: credential.id, application_credential_secret: credential.secret },
              region_name: "RegionOne",
              interface: "public",
              identity_api_version: 3,
            },
          },
        }),
      );
      const result = await runCheck(["-flavor", flavor, "-image", "cirros", "-name", "gc-ac", "-cidr", "10.96.0.0/24"], {
        OS_CLOUD: "altostack",
        OS_CLIENT_CONFIG_FILE: cloudsYaml,
      });
      expect(result.code, result.output).toBe(0);
      expect(result.output).toMatch(/PASS: every step succeeded/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await expectCleanedUp();
  }, 240_000);
});
