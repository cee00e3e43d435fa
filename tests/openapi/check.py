"""Checks the API's OpenAPI document and the answers the API tests got.

Usage: check.py OPENAPI_JSON [ANSWERS_JSON]

The document is validated by openapi-spec-validator (OpenAPI 3.0). Each
answer ({"method", "path", "status", "content_type", "body"}) is matched to
its operation (the path template with the most literal segments wins; a 404
or 405 for one the document lacks must be an Error) and
its body validated by openapi-schema-validator's OAS30Validator against the
schema documented for its status (or the operation's `default`). An answer
whose operation or status is not documented is an error too. Prints every
problem and exits 1 if there is any.
"""

import json
import re
import sys

from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate


def resolve(node, doc):
    """The schema with every $ref replaced by what it points to."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, doc)
        return {k: resolve(v, doc) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, doc) for v in node]
    return node


def operation(doc, method, path):
    """(template, operation) for a concrete path, or None."""
    best = None
    for template, ops in doc["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        if not re.match(pattern, path):
            continue
        literal = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
        if best is None or literal > best[0]:
            best = (literal, template, ops)
    if best is None:
        return None
    op = best[2].get(method.lower())
    return (best[1], op) if op is not None else None


def main():
    doc = json.load(open(sys.argv[1]))
    validate(doc)
    if len(sys.argv) < 3:
        print("the document is valid OpenAPI")
        return 0
    answers = json.load(open(sys.argv[2]))
    problems = []
    checked = 0
    for a in answers:
        where = f'{a["method"]} {a["path"]} -> {a["status"]}'
        found = operation(doc, a["method"], a["path"])
        if found is None and a["status"] in (404, 405):
            # A path or method the API does not have: refused as an Error.
            found = ("(refused)", {"responses": {"default": {"content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}})
        if found is None:
            problems.append(f"{where}: no such operation in the document")
            continue
        template, op = found
        responses = op.get("responses", {})
        response = responses.get(str(a["status"])) or responses.get("default")
        if response is None:
            problems.append(f"{where}: status not documented for {a['method']} {template}")
            continue
        content = response.get("content", {})
        media = (a.get("content_type") or "").split(";")[0].strip()
        if not content:
            if a["body"] not in (None, ""):
                problems.append(f"{where}: a body where the document says none")
            continue
        if media not in content:
            problems.append(f"{where}: {media!r} not documented (only {sorted(content)})")
            continue
        schema = content[media].get("schema")
        if schema is None or media != "application/json":
            continue
        errors = sorted(OAS30Validator(resolve(schema, doc)).iter_errors(a["body"]), key=str)
        for e in errors[:3]:
            path = "/".join(str(p) for p in e.absolute_path)
            problems.append(f"{where}: at '{path}': {e.message}")
        checked += 1
    for p in problems:
        print(p)
    print(f"{checked} JSON answers valid against their schema; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
