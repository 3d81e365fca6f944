// composecheck validates a Docker Compose file the way `docker compose config`
// does (schema, interpolation, required variables, consistency), plus that
// every bind-mounted file exists, without a Docker engine: it uses the
// Compose Specification's reference loader. On success it prints the
// resolved model as YAML.
//
//	cd deploy/tools/composecheck && go run . ../../compose/docker-compose.yml
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck COMPOSE_FILE")
		os.Exit(2)
	}
	if err := check(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "composecheck: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func check(file string) error {
	file, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	options, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithOsEnv,
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	if err := checkBindSources(project); err != nil {
		return err
	}
	out, err := project.MarshalYAML()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}

// checkBindSources fails when a bind mount names a file or folder that is not
// in the repository (Docker would silently create an empty folder instead).
func checkBindSources(project *types.Project) error {
	for name, service := range project.Services {
		for _, volume := range service.Volumes {
			if volume.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(volume.Source); err != nil {
				return fmt.Errorf("service %s mounts %s: %w", name, volume.Source, err)
			}
		}
	}
	return nil
}
