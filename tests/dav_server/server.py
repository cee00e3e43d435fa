"""A WebDAV server for the tests: wsgidav on cheroot, serving the folder
ROOT as /dav/ (and its folder ro, read-only, as /ro/) on 127.0.0.1 at a port the system picks, to one user with a
password (basic authentication). Prints "port N" once it listens.

    python server.py ROOT USER PASSWORD
"""
import os
import sys

from cheroot import wsgi
from wsgidav.wsgidav_app import WsgiDAVApp

root, user, password = sys.argv[1:4]
os.makedirs(os.path.join(root, "ro"), exist_ok=True)
app = WsgiDAVApp({
    "host": "127.0.0.1",
    "port": 0,
    "provider_mapping": {
        "/dav": root,
        "/ro": {"root": os.path.join(root, "ro"), "readonly": True},
    },
    "http_authenticator": {
        "domain_controller": None,
        "accept_basic": True,
        "accept_digest": False,
        "default_to_digest": False,
    },
    "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
    "verbose": 1,
    "logging": {"enable_loggers": []},
    "lock_storage": True,
    "property_manager": True,
})
server = wsgi.Server(("127.0.0.1", 0), app)
server.prepare()
print("port", server.bind_addr[1], flush=True)
server.serve()
