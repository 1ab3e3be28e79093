// The pod sandbox image of the local test cluster: a static program that reaps zombies and waits.
module provisioner.local/tools/pause

go 1.22
