"""From artifacts to booting machines: what the build adds for provisioning services (the
service configs and the TFTP tree), their validators, and what runs them (`rockscc serve`) and
grows the cluster from DHCP requests (`rockscc insert-ethers`).

- `spec.py`      the plain data the service configs are rendered from (backends render it)
- `validate.py`  each service config checked by its own tool (dhcpd, dnsmasq, named-checkzone, nginx)
- `tftp.py`      the TFTP tree's loaders, taken from Debian's packages, and grub's EFI image
- `jobs.py`      the build jobs of both: net:cluster, tftp:loaders (producers)
- `http.py`      the HTTP service: per-host kickstarts and boot files, install-done callback
- `daemons.py`   dnsmasq / ISC dhcpd started, watched and stopped by pid (`programs.py` finds them)
- `netif.py`     which interface holds an address (read, never changed)
- `serve.py`     `rockscc serve`: all of the above in the foreground
- `dhcpsniff.py` DHCP requests seen on an interface (a packet socket, whatever server answers)
- `discover.py`  `rockscc insert-ethers`: unknown MACs become hosts, in power-on order
"""
