#!/usr/bin/python3
# -*- coding: utf-8 -*-
# xenplan_bridge: apply a dom0 bridge configuration through xenplan (MIT, part of xenplan).
# No dependency beyond Ansible: it runs xenplan with --json and reads the xenplan/1 report.

DOCUMENTATION = r"""
module: xenplan_bridge
short_description: Build (or remove) a Xen dom0 bridge with xenplan
description:
  - Runs C(xenplan network start) with the given settings (the key=value words of
    network-xenplan, see xenplan.conf(5)); state=absent runs C(xenplan network stop).
  - Check mode only plans (C(xenplan plan --json)); C(changed) comes from the plan.
  - Diff mode shows the dry-run script, the exact commands an apply runs.
  - Doctor findings come back as warnings.
options:
  settings:
    description: network-xenplan settings, e.g. {bridge: xenbr0, bond: bond0, slaves: eth0,eth1}.
    type: dict
    default: {}
  config:
    description: a settings file instead of /etc/xen/xenplan.conf (config=FILE).
    type: path
  state:
    description: present builds the bridge, absent undoes what start recorded.
    type: str
    choices: [present, absent]
    default: present
  executable:
    description: the xenplan command.
    type: path
    default: /usr/sbin/xenplan
"""

EXAMPLES = r"""
- name: dom0's bonded bridge
  xenplan_bridge:
    settings:
      bridge: xenbr0
      bond: bond0
      slaves: eth0,eth1
"""

import json

from ansible.module_utils.basic import AnsibleModule


def words_of(params):
    """The settings as network-xenplan words; values are passed as argv, never to a shell."""
    words = []
    for key, value in sorted((params["settings"] or {}).items()):
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        words.append("%s=%s" % (key, value))
    if params["config"]:
        words.append("config=%s" % params["config"])
    return words


def run_report(module, argv):
    """Runs xenplan with --json and returns its xenplan/1 report."""
    rc, out, err = module.run_command(argv)
    try:
        report = json.loads(out)
    except ValueError:
        module.fail_json(msg="xenplan printed no JSON report (exit %d): %s" % (rc, err.strip()), rc=rc)
    if report.get("schema") != "xenplan/1":
        module.fail_json(msg="unexpected report schema %r" % report.get("schema"), report=report)
    if not report.get("ok") and "error" in report:
        module.fail_json(msg=report["error"]["message"], report=report, rc=rc)
    return report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", default={}),
            config=dict(type="path"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            executable=dict(type="path", default="/usr/sbin/xenplan"),
        ),
        supports_check_mode=True,
    )
    xenplan = module.params["executable"]
    words = words_of(module.params)
    command = "start" if module.params["state"] == "present" else "stop"
    planned = run_report(module, [xenplan, "network", command, "--dry-run", "--json"] + words)
    for finding in planned.get("findings", []):
        module.warn("%s %s: %s (fix: %s)" % (finding["severity"], finding["id"], finding["message"], finding["fix"]))
    result = dict(changed=len(planned.get("steps", [])) > 0, steps=planned.get("steps", []))
    if module._diff:
        rc, script, err = module.run_command([xenplan, "network", command, "--dry-run"] + words)
        result["diff"] = dict(prepared=script)
    if module.check_mode or not result["changed"]:
        module.exit_json(**result)
    applied = run_report(module, [xenplan, "network", command, "--json"] + words)
    result.update(changed=bool(applied.get("changed")), steps=applied.get("steps", []))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
