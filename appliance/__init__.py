"""The commander appliance: config, inventory, scheduler, storage, alerts, CLI."""
