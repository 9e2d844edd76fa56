"""The runtime layer: VMs driven through libvirt from the compiled domain XML (one connection per
VM container, from the container's `libvirt_uri` attribute)."""
