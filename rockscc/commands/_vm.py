"""What the VM commands share: picking VM hosts, and the compiled domain XML they start from."""

from __future__ import annotations

from rockscc.errors import RocksccError


def vm_hosts(hosts) -> list:
    for host in hosts:
        if host.vm is None:
            raise RocksccError(f'host "{host.name}" is not a VM (see rockscc list host vm)')
    return list(hosts)


def compiled_xml(ctx, name: str, mode: str) -> str:
    """build/libvirt/<vm>[.install].xml, rebuilt first if anything it depends on changed."""
    from rockscc.build import engine

    report = engine.build(ctx.root, engine.BuildOptions(hosts=[name], evals=False, progress=False))
    if report.errors:
        raise RocksccError(f"building the configs of {name} failed: " + "; ".join(report.errors))
    path = engine.output_dir(ctx.root, None) / "libvirt" / (f"{name}.install.xml" if mode == "install" else f"{name}.xml")
    try:
        return path.read_text()
    except OSError as exc:
        raise RocksccError(f"{path}: {exc}") from None
