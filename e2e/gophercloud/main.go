// gophercloud-check drives an OpenStack cloud (Altostack's facade) with gophercloud v2, the way Go tooling
// (Terraform's provider, Cluster API's provider) does: authenticate, create a network and a subnet, boot a server
// on them, wait for ACTIVE, find both in the listings, delete the server (and wait until it is gone), then the
// subnet and the network. gophercloud checks every status code exactly, so any deviation of the facade fails here.
//
// Credentials: OS_CLOUD (clouds.yaml, OS_CLIENT_CONFIG_FILE) or the usual OS_* variables (password or
// application credential). Usage: gophercloud-check -flavor <name|id> -image <name|id> [-name prefix] [-cidr c].
// Exit code 0 only if every step passed; each step is printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

type options struct {
	flavor, image, name, cidr, region string
	timeout                           time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.flavor, "flavor", "", "flavor name or id (required)")
	flag.StringVar(&o.image, "image", "", "image name or id (required)")
	flag.StringVar(&o.name, "name", "gophercloud-check", "prefix of the names of the objects created")
	flag.StringVar(&o.cidr, "cidr", "10.99.0.0/24", "CIDR of the subnet created")
	flag.StringVar(&o.region, "region", os.Getenv("OS_REGION_NAME"), "region")
	flag.DurationVar(&o.timeout, "timeout", 4*time.Minute, "time allowed for the whole check")
	flag.Parse()
	if o.flavor == "" || o.image == "" {
		fmt.Fprintln(os.Stderr, "usage: gophercloud-check -flavor <name|id> -image <name|id> [-name prefix] [-cidr cidr]")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Printf("FAIL: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("PASS: every step succeeded")
}

func step(format string, args ...any) { fmt.Printf("- "+format+"\n", args...) }

func authenticate(ctx context.Context, region string) (*gophercloud.ProviderClient, gophercloud.EndpointOpts, error) {
	endpoint := gophercloud.EndpointOpts{Region: region}
	if os.Getenv("OS_CLOUD") != "" {
		auth, endpointOpts, tlsConfig, err := clouds.Parse()
		if err != nil {
			return nil, endpoint, fmt.Errorf("reading clouds.yaml: %w", err)
		}
		provider, err := config.NewProviderClient(ctx, auth, config.WithTLSConfig(tlsConfig))
		if err != nil {
			return nil, endpoint, fmt.Errorf("authenticating (clouds.yaml cloud %s): %w", os.Getenv("OS_CLOUD"), err)
		}
		return provider, endpointOpts, nil
	}
	auth, err := openstack.AuthOptionsFromEnv()
	if err != nil {
		return nil, endpoint, fmt.Errorf("reading OS_* variables: %w", err)
	}
	provider, err := openstack.AuthenticatedClient(ctx, auth)
	if err != nil {
		return nil, endpoint, fmt.Errorf("authenticating as %s%s: %w", auth.Username, auth.ApplicationCredentialID, err)
	}
	return provider, endpoint, nil
}

func run(ctx context.Context, o options) error {
	provider, endpoint, err := authenticate(ctx, o.region)
	if err != nil {
		return err
	}
	step("authenticated against %s", provider.IdentityEndpoint)
	compute, err := openstack.NewComputeV2(provider, endpoint)
	if err != nil {
		return fmt.Errorf("compute endpoint: %w", err)
	}
	network, err := openstack.NewNetworkV2(provider, endpoint)
	if err != nil {
		return fmt.Errorf("network endpoint: %w", err)
	}
	image, err := openstack.NewImageV2(provider, endpoint)
	if err != nil {
		return fmt.Errorf("image endpoint: %w", err)
	}

	flavorID, err := findFlavor(ctx, compute, o.flavor)
	if err != nil {
		return err
	}
	imageID, err := findImage(ctx, image, o.image)
	if err != nil {
		return err
	}
	step("flavor %s is %s, image %s is %s", o.flavor, flavorID, o.image, imageID)

	net, err := networks.Create(ctx, network, networks.CreateOpts{Name: o.name + "-net"}).Extract()
	if err != nil {
		return fmt.Errorf("creating network: %w", err)
	}
	step("created network %s (%s), status %s", net.Name, net.ID, net.Status)
	subnet, err := subnets.Create(ctx, network, subnets.CreateOpts{
		NetworkID: net.ID, Name: o.name + "-subnet", CIDR: o.cidr, IPVersion: gophercloud.IPv4,
	}).Extract()
	if err != nil {
		return fmt.Errorf("creating subnet: %w", err)
	}
	step("created subnet %s (%s) %s, gateway %s", subnet.Name, subnet.ID, subnet.CIDR, subnet.GatewayIP)

	server, err := servers.Create(ctx, compute, servers.CreateOpts{
		Name: o.name + "-vm", FlavorRef: flavorID, ImageRef: imageID,
		Networks: []servers.Network{{UUID: net.ID}},
	}, nil).Extract()
	if err != nil {
		return fmt.Errorf("creating server: %w", err)
	}
	step("created server %s (%s)", o.name+"-vm", server.ID)
	if err := servers.WaitForStatus(ctx, compute, server.ID, "ACTIVE"); err != nil {
		return fmt.Errorf("waiting for server %s to be ACTIVE: %w", server.ID, err)
	}
	active, err := servers.Get(ctx, compute, server.ID).Extract()
	if err != nil {
		return fmt.Errorf("showing server: %w", err)
	}
	step("server %s is %s, addresses %v", active.ID, active.Status, active.Addresses)
	if _, ok := active.Addresses[net.Name]; !ok {
		return fmt.Errorf("server %s has no address on network %s: %v", active.ID, net.Name, active.Addresses)
	}

	if err := expectServerListed(ctx, compute, server.ID); err != nil {
		return err
	}
	if err := expectNetworkListed(ctx, network, net.ID); err != nil {
		return err
	}

	if err := servers.Delete(ctx, compute, server.ID).ExtractErr(); err != nil {
		return fmt.Errorf("deleting server: %w", err)
	}
	if err := waitServerGone(ctx, compute, server.ID); err != nil {
		return err
	}
	step("deleted server %s and saw it gone", server.ID)
	if err := subnets.Delete(ctx, network, subnet.ID).ExtractErr(); err != nil {
		return fmt.Errorf("deleting subnet: %w", err)
	}
	if err := networks.Delete(ctx, network, net.ID).ExtractErr(); err != nil {
		return fmt.Errorf("deleting network: %w", err)
	}
	if _, err := networks.Get(ctx, network, net.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return fmt.Errorf("network %s should be gone (404), got %v", net.ID, err)
	}
	step("deleted subnet %s and network %s", subnet.ID, net.ID)
	return nil
}

func findFlavor(ctx context.Context, compute *gophercloud.ServiceClient, nameOrID string) (string, error) {
	pages, err := flavors.ListDetail(compute, flavors.ListOpts{}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("listing flavors: %w", err)
	}
	all, err := flavors.ExtractFlavors(pages)
	if err != nil {
		return "", fmt.Errorf("reading flavors: %w", err)
	}
	for _, f := range all {
		if f.ID == nameOrID || f.Name == nameOrID {
			return f.ID, nil
		}
	}
	return "", fmt.Errorf("no flavor %q among %d flavors", nameOrID, len(all))
}

func findImage(ctx context.Context, image *gophercloud.ServiceClient, nameOrID string) (string, error) {
	if found, err := images.Get(ctx, image, nameOrID).Extract(); err == nil {
		return found.ID, nil
	} else if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return "", fmt.Errorf("showing image %s: %w", nameOrID, err)
	}
	pages, err := images.List(image, images.ListOpts{Name: nameOrID}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("listing images named %s: %w", nameOrID, err)
	}
	named, err := images.ExtractImages(pages)
	if err != nil {
		return "", fmt.Errorf("reading images: %w", err)
	}
	if len(named) != 1 {
		return "", fmt.Errorf("expected one image named %q, found %d", nameOrID, len(named))
	}
	return named[0].ID, nil
}

func expectServerListed(ctx context.Context, compute *gophercloud.ServiceClient, id string) error {
	pages, err := servers.List(compute, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing servers: %w", err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return fmt.Errorf("reading servers: %w", err)
	}
	for _, s := range all {
		if s.ID == id {
			step("server list (%d servers) has %s, status %s", len(all), id, s.Status)
			return nil
		}
	}
	return fmt.Errorf("server %s is not in the server list (%d servers)", id, len(all))
}

func expectNetworkListed(ctx context.Context, network *gophercloud.ServiceClient, id string) error {
	pages, err := networks.List(network, networks.ListOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("listing networks: %w", err)
	}
	all, err := networks.ExtractNetworks(pages)
	if err != nil {
		return fmt.Errorf("reading networks: %w", err)
	}
	for _, n := range all {
		if n.ID == id {
			step("network list (%d networks) has %s with subnets %v", len(all), id, n.Subnets)
			return nil
		}
	}
	return fmt.Errorf("network %s is not in the network list (%d networks)", id, len(all))
}

// waitServerGone polls GET /servers/{id} until Nova answers 404, as `openstack server delete --wait` does.
func waitServerGone(ctx context.Context, compute *gophercloud.ServiceClient, id string) error {
	for {
		_, err := servers.Get(ctx, compute, id).Extract()
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("waiting for server %s to go: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server %s still exists: %w", id, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
