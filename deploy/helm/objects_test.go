package helm_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Look-ups in the decoded objects, shared by the tests.

func container(t *testing.T, d appsv1.Deployment, name string) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("Deployment %s has no container %q", d.Name, name)
	return corev1.Container{}
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// namedPortSelected reports whether a pod selected by set has a container port name.
func namedPortSelected(m *manifests, set map[string]string, name string) bool {
	sel := labels.SelectorFromSet(set)
	for _, d := range m.Deployments {
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if containerPort(c, name) != 0 {
				return true
			}
		}
	}
	return false
}

func servicePortNamed(s corev1.Service, name string) bool {
	for _, p := range s.Spec.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

// envValue returns a plain env value of c, failing when it is missing.
func envValue(t *testing.T, c corev1.Container, name string) string {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	t.Fatalf("container %s: env %s is not set", c.Name, name)
	return ""
}

// hasEnv reports whether c sets name at all.
func hasEnv(c corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// envRef returns the Secret reference of an env entry read from a Secret.
func envRef(c corev1.Container, name string) (*corev1.SecretKeySelector, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return e.ValueFrom.SecretKeyRef, true
		}
	}
	return nil, false
}
