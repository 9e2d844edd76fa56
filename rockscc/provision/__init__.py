"""From artifacts to booting machines: what runs the built service configs (`rockscc serve`) and
grows the cluster from DHCP requests (`rockscc insert-ethers`).

The build side of provisioning lives with the stages it belongs to: the attribute checks in
model/services.py, the specs in pipeline/specs.py (network_spec, tftp_spec), the jobs in
pipeline/producers.py (net:cluster, tftp:loaders), the renderers in backends/ (netfiles,
dnsmasq_conf, dns_zones, nginx_conf, tftp) with their checkers (backends/service_check.py).

- `http.py`      the HTTP service: per-host kickstarts and boot files, install-done callback
- `daemons.py`   dnsmasq / ISC dhcpd started, watched and stopped by pid (backends/programs.py finds them)
- `netif.py`     which interface holds an address (read, never changed)
- `serve.py`     `rockscc serve`: all of the above in the foreground
- `dhcpsniff.py` DHCP requests seen on an interface (a packet socket, whatever server answers)
- `discover.py`  `rockscc insert-ethers`: unknown MACs become hosts, in power-on order
"""
