"""capy kubeadm bootstrap provider: upstream's KubeadmConfig API, rendered by capy."""
