"""The build jobs of provisioning (producers, like rockscc/build/producers.py):

- `net:cluster`: every network file of build/net/ from one spec (provision/spec.py): hosts,
  ISC dhcpd.conf, dnsmasq's config and hosts file, the DNS zones and their named.conf
  fragment, the nginx server; each checked by its own tool before it is written;
- `tftp:loaders`: the TFTP tree's shared files (provision/tftp.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from rockscc.backends import dns_zones, dnsmasq_conf, netfiles, nginx_conf
from rockscc.build.jobs import DepResolver, JobResult, SpecJob
from rockscc.model import Cluster
from rockscc.provision import validate
from rockscc.provision.spec import network_spec
from rockscc.provision.tftp import render_tftp, tftp_spec

# dnsmasq checks each new dhcp-host against all before it: ten thousand in one file cost half a
# second, in chunks of this many a tenth (the description already keeps MACs and addresses unique)
DNSMASQ_CHUNK = 2000


@dataclass(slots=True)
class CheckedSpecJob(SpecJob):
    """A spec job whose render also returns warnings (a file not checked, a loader missing)."""

    def run(self, resolver: DepResolver) -> JobResult:
        spec = self._spec if self._spec is not None else self.spec()
        if spec is None:
            return JobResult([], {"spec": None})
        outputs, warnings = self.render(spec)
        return JobResult(outputs, {"spec": spec}, warnings)


def network_jobs(cluster: Cluster, options) -> list[SpecJob]:
    from rockscc.build.engine import output_dir

    outdir = output_dir(cluster.root, getattr(options, "out", None))
    # it reads every host: its stamp covers all their records (a no-op build at ten thousand hosts
    # compares one digest instead of computing this spec)
    return [CheckedSpecJob("net:cluster", None, partial(network_spec, cluster, outdir), render_network, salt="net-3",
                           reads=tuple(cluster.hosts))]


def tftp_jobs(cluster: Cluster, options) -> list[SpecJob]:
    return [CheckedSpecJob("tftp:loaders", None, partial(tftp_spec, cluster), render_tftp, salt="tftp-1")]


def render_network(spec: dict[str, Any]) -> tuple[list, list[str]]:
    """The files, and their checks run all at once. Without a server address or a private
    network only hosts and dhcpd.conf (there is nothing to serve)."""
    from rockscc.build.kinds import text_output

    files = {f"net/{name}": text for name, text in netfiles.render_netfiles(spec).items()}
    checks = [validate.Check("net/dhcpd.conf", files["net/dhcpd.conf"], "dhcpd")]
    if spec["next_server"] and spec["network"]:
        conf, hosts = dnsmasq_conf.render_conf(spec), dnsmasq_conf.render_hosts(spec)
        files.update({dnsmasq_conf.CONF_FILE: conf, dnsmasq_conf.HOSTS_FILE: hosts,
                      nginx_conf.CONF_FILE: nginx_conf.render_nginx(spec), **dns_zones.render_zones(spec)})
        checks += [validate.Check(dnsmasq_conf.CONF_FILE, conf, "dnsmasq"), *_dnsmasq_host_checks(conf, hosts),
                   validate.Check(nginx_conf.CONF_FILE, files[nginx_conf.CONF_FILE], "nginx")]
        for path, text in files.items():
            if path == dns_zones.NAMED_CONF:
                checks.append(validate.Check(path, text, "named-checkconf"))
            elif path.startswith(dns_zones.ZONE_DIR):
                checks.append(validate.Check(path, text, "named-checkzone", zone=path.rsplit("/", 1)[1]))
    warnings = validate.check(checks)
    return [text_output(path, text) for path, text in sorted(files.items())], _once_per_tool(warnings)


def _dnsmasq_host_checks(conf: str, hosts: str) -> list[validate.Check]:
    """The hosts file, which `dnsmasq --test` does not read, checked as dhcp-host lines."""
    lines = dnsmasq_conf.host_lines(hosts)
    base = "\n".join(line for line in conf.splitlines() if not line.startswith("dhcp-hostsfile="))
    return [validate.Check(dnsmasq_conf.HOSTS_FILE, base + "\n" + "\n".join(lines[i:i + DNSMASQ_CHUNK]) + "\n",
                           "dnsmasq")
            for i in range(0, len(lines), DNSMASQ_CHUNK)]


def _once_per_tool(warnings: list[str]) -> list[str]:
    """The hosts file's chunks would each say that dnsmasq is missing: once is enough."""
    return list(dict.fromkeys(warnings))
