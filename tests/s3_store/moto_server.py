"""Starts moto's S3 server on 127.0.0.1, on a port the system picks, prints
that port on a line of its own, and serves until its stdin closes (the test
that started it has ended).

With --auth moto checks every request's signature against the access keys
it knows: two are made (through its IAM API, the only requests it takes
unsigned), "writer" allowed everything on S3, "lister" allowed to list the
bucket and nothing else, and "nobody" allowed nothing, and printed as a JSON line after the port, with the bucket made by writer."""

import json
import os
import sys

AUTH = "--auth" in sys.argv[1:]
if AUTH:
    # Requests moto takes before it checks signatures: the IAM calls and
    # the bucket's creation below.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "9"

from moto.server import ThreadedMotoServer  # noqa: E402

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
port = server._server.server_port
print(port, flush=True)
if AUTH:
    import boto3

    url = f"http://127.0.0.1:{port}"
    unsigned = dict(endpoint_url=url, region_name="us-east-1",
                    aws_access_key_id="setup", aws_secret_access_key="setup")
    iam = boto3.client("iam", **unsigned)
    keys = {}
    for user in ("writer", "lister", "nobody"):
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = [key["AccessKeyId"], key["SecretAccessKey"]]
    allow = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="writer", PolicyName="s3", PolicyDocument=json.dumps(allow))
    listing = {"Version": "2012-10-17",
               "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
    iam.put_user_policy(UserName="lister", PolicyName="s3", PolicyDocument=json.dumps(listing))
    boto3.client("s3", **unsigned).create_bucket(Bucket=sys.argv[-1])
    print(json.dumps(keys), flush=True)
sys.stdin.read()
server.stop()
