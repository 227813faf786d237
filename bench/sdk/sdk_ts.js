#!/usr/bin/env node
// bench/sdk: Skyvern's TypeScript SDK, unchanged, against a running Sextant.
//
//     node bench/sdk/sdk_ts.js BUILD
//
// BUILD is what bench/sdk/build-ts.sh made (BUILD/dist/cjs).  bench/sdk/run.py
// starts this with SX_URL, SX_API_KEY, SDK_SITE and SDK_HOOK in the
// environment.  The TypeScript SDK validates nothing at run time, so each
// call also checks here the members its types declare as required, and that
// enum values are among the ones its types list.  Prints one JSON line per
// call: {"sdk", "call", "ok", "detail"}.
"use strict";
const path = require("path");

const FINAL = ["completed", "failed", "terminated", "canceled", "timed_out"];
const RUN_STATUS = ["created", "queued", "running", "paused", ...FINAL];
const SDK = "typescript run API";

function check(cond, what) {
    if (!cond) throw new Error(what);
}

async function call(name, fn) {
    let value = null, ok = true, detail = "";
    try {
        value = await fn();
    } catch (e) {
        ok = false;
        detail = `${e.constructor.name}: ${String(e.message).replace(/\n/g, " ").slice(0, 400)}`;
    }
    console.log(JSON.stringify({ sdk: SDK, call: name, ok, detail }));
    return value;
}

// A run object as the SDK's TaskRunResponse / GetRunResponse types describe it.
function checkRun(run, id) {
    for (const k of ["run_id", "run_type", "status", "created_at", "modified_at"])
        check(run[k] !== undefined && run[k] !== null, `${k} missing`);
    check(!id || run.run_id === id, "run_id");
    check(run.run_type === "task_v1", `run_type ${run.run_type}`);
    check(RUN_STATUS.includes(run.status), `status ${run.status} not in RunStatus`);
    check(!Number.isNaN(Date.parse(run.created_at)), `created_at ${run.created_at}`);
}

async function expectStatus(fn, status, cls) {
    try {
        await fn();
    } catch (e) {
        check(e.statusCode === status && (!cls || e instanceof cls),
              `expected ${cls ? cls.name : "SkyvernError"} ${status}, got ${e.constructor.name} ${e.statusCode}`);
        return;
    }
    throw new Error(`expected HTTP ${status}, the call returned`);
}

async function main() {
    const build = path.resolve(process.argv[2]);
    const sdk = await call("load the SDK", () => require(path.join(build, "dist/cjs/index.js")));
    if (!sdk) return;
    const { Skyvern, SkyvernApi } = sdk;
    const env = process.env;
    const c = new Skyvern({ apiKey: env.SX_API_KEY, baseUrl: env.SX_URL });
    const site = env.SDK_SITE, hook = env.SDK_HOOK;
    const schema = { type: "object", properties: { name: { type: "string" }, price: { type: "number" } } };

    const run = await call("runTask", async () => {
        const r = await c.runTask({ prompt: "Read the product's name and price", url: site + "product/index.html",
                                    data_extraction_schema: schema, max_steps: 5, webhook_url: hook + "/ts" });
        checkRun(r);
        return r;
    });
    const rid = run ? run.run_id : "tsk_missing";
    await call("getRun", async () => checkRun(await c.getRun(rid), rid));
    await call("runTask({waitForCompletion}) (create-then-poll)", async () => {
        const r = await c.runTask({ prompt: "Read the product's name and price", url: site + "product/index.html",
                                    data_extraction_schema: schema, waitForCompletion: true, timeout: 180 });
        checkRun(r);
        check(r.status === "completed", `status ${r.status} (${r.failure_reason})`);
        check(r.output && r.output.price === 249, `output ${JSON.stringify(r.output)}`);
        return r;
    });
    await call("getRun (unknown id): NotFoundError 404", () =>
        expectStatus(() => c.getRun("tsk_000000000000000000000000"), 404, SkyvernApi.NotFoundError));
    const deadline = Date.now() + 180000;
    while (Date.now() < deadline && !FINAL.includes((await c.getRun(rid)).status))
        await new Promise((res) => setTimeout(res, 500));
    await call("getRunArtifacts", async () => {
        const items = await c.getRunArtifacts(rid);
        check(items.length > 0, "no artifacts");
        for (const a of items)
            for (const k of ["artifact_id", "artifact_type", "uri", "organization_id", "created_at", "modified_at"])
                check(typeof a[k] === "string", `${k} of ${a.artifact_id}`);
    });
    await call("getRunArtifacts (artifact_type filter)", async () => {
        const items = await c.getRunArtifacts(rid, { artifact_type: ["screenshot_final", "llm_response"] });
        const kinds = [...new Set(items.map((a) => a.artifact_type))].sort();
        check(JSON.stringify(kinds) === '["llm_response","screenshot_final"]', `types ${kinds}`);
    });
    await call("retryRunWebhook", async () => {
        const rep = await c.retryRunWebhook(rid, { webhook_url: hook + "/ts-other" });
        for (const k of ["run_id", "run_type", "payload", "headers"])
            check(rep[k] !== undefined && rep[k] !== null, `${k} missing`);
        check(rep.status_code === 200 && rep.target_webhook_url === hook + "/ts-other", `status ${rep.status_code}`);
    });
    await call("cancelRun (then getRun: canceled)", async () => {
        const other = await c.runTask({ prompt: "Wait forever", url: site + "never/index.html" });
        await c.cancelRun(other.run_id);
        check((await c.getRun(other.run_id)).status === "canceled", "not canceled");
    });
    await call("runTask (refused url): BadRequestError 400", () =>
        expectStatus(() => c.runTask({ prompt: "x", url: "ftp://example.com/" }), 400, SkyvernApi.BadRequestError));
    await call("sendTotpCode (POST /v1/credentials/totp)", async () => {
        const code = await c.sendTotpCode({ totp_identifier: "sdk@example.com", content: "Your code is 482913" });
        for (const k of ["totp_identifier", "content", "totp_code_id", "code", "organization_id", "created_at",
                         "modified_at"])
            check(typeof code[k] === "string", `${k} missing`);
    });
}

main().catch((e) => {
    console.log(JSON.stringify({ sdk: SDK, call: "driver", ok: false, detail: String(e) }));
    process.exitCode = 1;
});
