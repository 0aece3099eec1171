"""RQ job functions: each runs one playbook through ansible-runner and records the outcome."""
