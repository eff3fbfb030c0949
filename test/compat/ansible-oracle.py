#!/usr/bin/python3
"""Ansible's view of many inventories in one Python process (start-up costs ~1 s per call).

Reads {"cases": [{"id", "path", "patterns": [...]}]} on stdin and prints, per case, what
`ansible-inventory -i PATH --list`, `--graph`, `--host H` (for every host) and
`ansible -i PATH PATTERN --list-hosts` print, with the warnings each emits.
"""
import contextlib
import io
import json
import os
import sys

os.environ.setdefault('ANSIBLE_NOCOLOR', '1')
os.environ.setdefault('ANSIBLE_LOCALHOST_WARNING', '0')
os.environ.setdefault('ANSIBLE_INVENTORY_UNPARSED_WARNING', '1')

from ansible.cli.inventory import InventoryCLI  # noqa: E402
from ansible.inventory.manager import InventoryManager  # noqa: E402
from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.utils.context_objects import GlobalCLIArgs  # noqa: E402
from ansible.utils.display import Display  # noqa: E402

display = Display()


def run_cli(args):
    """One ansible-inventory call: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    display._warns = {}
    display._deprecations = {}
    code = 0
    # The parsed command line is a process-wide singleton: forget the previous call's.
    GlobalCLIArgs._Singleton__instance = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli = InventoryCLI(['ansible-inventory'] + args)
            cli.parse()
            cli.run()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except Exception as e:  # AnsibleError and friends: the CLI prints them and exits 1
            err.write('ERROR! %s\n' % e)
            code = 1
    return code, out.getvalue(), err.getvalue()


def list_hosts(path, pattern):
    out, err = io.StringIO(), io.StringIO()
    display._warns = {}
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            inv = InventoryManager(loader=DataLoader(), sources=[path])
            hosts = [h.name for h in inv.list_hosts(pattern)]
            return {'code': 0, 'hosts': hosts, 'stderr': err.getvalue()}
        except Exception as e:
            return {'code': 1, 'hosts': [], 'stderr': err.getvalue() + 'ERROR! %s\n' % e}


def main():
    req = json.load(sys.stdin)
    results = {}
    for case in req['cases']:
        path = case['path']
        r = {}
        code, out, err = run_cli(['-i', path, '--list'])
        r['list'] = {'code': code, 'stdout': out, 'stderr': err}
        code, out, err = run_cli(['-i', path, '--graph'])
        r['graph'] = {'code': code, 'stdout': out, 'stderr': err}
        r['host'] = {}
        if case.get('hosts', True):
            inv = InventoryManager(loader=DataLoader(), sources=[path])
            names = [h.name for h in inv.get_hosts()] + case.get('extraHosts', [])
            for name in names:
                code, out, err = run_cli(['-i', path, '--host', name])
                r['host'][name] = {'code': code, 'stdout': out, 'stderr': err}
        r['patterns'] = {p: list_hosts(path, p) for p in case.get('patterns', [])}
        results[case['id']] = r
    json.dump(results, sys.stdout)


if __name__ == '__main__':
    main()
