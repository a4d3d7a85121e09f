"""The commander's alerting: rules over snapshots, alerts that fire and resolve once, and the
channels that tell people and the NMS. See README.md in this folder."""
