// Package helm holds the validation of the Helm chart in fulfilment/: its tests lint and
// render the chart with the pinned helm (deploy/local/helm.sh) for every values file and
// decode every rendered object strictly into its Kubernetes API type.
package helm
