"""The API description: every route kefud serves is in /api/openapi.json, every registry entity
has its own paths and schemas (enum values included), every operation names its error schema,
and a TypeScript client generated from it (openapi-typescript, as front-end teams do) compiles
and catches a wrong field."""
import json
import os
import subprocess

from conftest import BUILD, ROOT

WEB_BIN = os.path.join(ROOT, "web", "node_modules", ".bin")


def routes_kefud_serves(tmp_path):
    """`kefuctl routes`: the router's own list, from a kefud built like the running one."""
    r = subprocess.run([os.path.join(BUILD, "src", "kefuctl"), "--db", str(tmp_path / "routes.db"), "routes"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [tuple(line.split(" ")[:2]) for line in r.stdout.splitlines() if line]


def test_every_route_and_every_entity_has_its_own_description(anon, admin, tmp_path):
    api = anon.get("/api/openapi.json").json()
    paths = api["paths"]
    entities = [e["name"] for e in admin.get("/api/v1/meta").json()["entities"]]
    assert {"staff", "cti_queue", "cti_agent", "crm_call_list"} <= set(entities), entities
    routes = routes_kefud_serves(tmp_path)
    assert len(routes) > 50, routes
    missing = []
    for method, pattern in routes:
        concrete = [pattern.replace("{entity}", e) for e in entities] if "{entity}" in pattern else [pattern]
        missing += [(method, p) for p in concrete if method.lower() not in paths.get(p, {})]
    assert not missing, missing
    assert not [p for p in paths if "{entity}" in p], "no generic path is left"

    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(ids) == len(set(ids)), "operation ids are unique"
    for path, item in paths.items():
        for method, op in item.items():
            error = op["responses"]["4XX"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (method, path)

    # The entity's own operations, schemas and permissions.
    staff = paths["/api/v1/staff"]
    assert staff["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/staff_page")
    assert staff["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/staff_create")
    assert staff["get"]["x-permission"] == "staff:read" and staff["post"]["x-permission"] == "staff:create"
    assert paths["/api/v1/staff/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"] \
        .endswith("/staff_update")
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/v1/staff/{id}"])
    assert "text/csv" in paths["/api/v1/staff/export"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in paths["/api/v1/staff/import"]["post"]["requestBody"]["content"]
    schemas = api["components"]["schemas"]
    assert "password_hash" not in json.dumps(schemas["staff"])
    create = schemas["staff_create"]
    assert "username" in create["required"] and "id" not in create["properties"]
    assert schemas["staff_update"]["required"] == ["version"]
    enums = {k: v["enum"] for k, v in schemas["cti_queue"]["properties"].items() if "enum" in v}
    assert enums, schemas["cti_queue"]
    meta = {f["name"]: f for f in admin.get("/api/v1/meta/cti_queue").json()["fields"]}
    for name, values in enums.items():
        assert values == [o["value"] if isinstance(o, dict) else o for o in meta[name]["options"]], name


CLIENT = """
import type { paths, components } from "./kefu-api";

type Staff = components["schemas"]["staff"];
type StaffPage = paths["/api/v1/staff"]["get"]["responses"]["200"]["content"]["application/json"];
type NewQueue = paths["/api/v1/cti_queue"]["post"]["requestBody"]["content"]["application/json"];
type ApiError = components["schemas"]["Error"];

export function firstUsername(page: StaffPage): string | undefined {
  const first: Staff | undefined = page.items[0];
  return first?.username;
}
export function failure(e: ApiError): string {
  return `${e.error.code} ${e.error.field ?? ""}`;
}
export const strategy: NewQueue["strategy"] = "longest_idle";
"""


def generate_and_compile(tmp_path, api, client):
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(api))
    r = subprocess.run([os.path.join(WEB_BIN, "openapi-typescript"), str(spec), "-o", str(tmp_path / "kefu-api.d.ts")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "client.ts").write_text(client)
    return subprocess.run([os.path.join(WEB_BIN, "tsc"), "--noEmit", "--strict", "--target", "es2020",
                           "--moduleResolution", "node", str(tmp_path / "client.ts")],
                          capture_output=True, text=True, timeout=120)


def test_a_generated_typescript_client_compiles_and_catches_a_wrong_field(anon, tmp_path):
    api = anon.get("/api/openapi.json").json()
    r = generate_and_compile(tmp_path, api, CLIENT)
    assert r.returncode == 0, r.stdout + r.stderr
    # The types are the entities' own: a field staff does not have, or a queue strategy that does
    # not exist, does not compile.
    wrong = CLIENT.replace("first?.username", "first?.no_such_field").replace('"longest_idle"', '"fastest"')
    r = generate_and_compile(tmp_path, api, wrong)
    assert r.returncode != 0
    assert "no_such_field" in r.stdout and "fastest" in r.stdout, r.stdout
