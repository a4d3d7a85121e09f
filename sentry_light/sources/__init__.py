"""What a rig sentry reads: the GPUs (NVML, amdgpu sysfs), the host (psutil) and the local mining
programs' APIs. Each source is a module of its own; ``sentry_light.collect`` runs them together."""
