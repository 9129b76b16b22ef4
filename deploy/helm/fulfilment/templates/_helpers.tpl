{{/* Names and labels. */}}
{{- define "fulfilment.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fulfilment.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* fulfilment.component: fullname-component, for (dict "root" $ "component" "worker"). */}}
{{- define "fulfilment.component" -}}
{{- printf "%s-%s" (include "fulfilment.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fulfilment.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "fulfilment.selectorLabels" . }}
{{- end -}}

{{- define "fulfilment.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fulfilment.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "fulfilment.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fulfilment.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* fulfilment.image: repository:tag of (dict "root" $ "image" .Values.worker.image). */}}
{{- define "fulfilment.image" -}}
{{- printf "%s:%s" (required "image.repository is required" .image.repository) (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* TLS towards Temporal: cloud, API keys and mTLS always use it. */}}
{{- define "fulfilment.temporalTLS" -}}
{{- $t := .Values.temporal -}}
{{- if or (eq $t.mode "cloud") (ne $t.auth "none") $t.tls.enabled -}}true{{- end -}}
{{- end -}}

{{/*
fulfilment.validate: fails rendering with one message naming every missing or bad value.
Included by every workload template, so `helm template` and `helm install` stop early.
*/}}
{{- define "fulfilment.validate" -}}
{{- $t := .Values.temporal -}}
{{- $problems := list -}}
{{- if not (has $t.mode (list "selfhosted" "cloud")) -}}
{{- $problems = append $problems (printf "temporal.mode=%q: want selfhosted or cloud" $t.mode) -}}
{{- end -}}
{{- if not (has $t.auth (list "none" "apiKey" "mtls")) -}}
{{- $problems = append $problems (printf "temporal.auth=%q: want none, apiKey or mtls" $t.auth) -}}
{{- end -}}
{{- if not $t.address -}}
{{- $problems = append $problems "temporal.address is required (self-hosted: the frontend service, e.g. temporal-frontend.temporal.svc.cluster.local:7233; Temporal Cloud: <namespace>.<account>.tmprl.cloud:7233 for mTLS, <region>.<cloud>.api.temporal.io:7233 for API keys)" -}}
{{- end -}}
{{- if not $t.namespace -}}
{{- $problems = append $problems "temporal.namespace is required" -}}
{{- end -}}
{{- if eq $t.mode "cloud" -}}
{{- if or (not $t.namespace) (eq $t.namespace "default") (not (contains "." $t.namespace)) -}}
{{- $problems = append $problems (printf "temporal.namespace=%q: Temporal Cloud needs the namespace with its account id, <namespace>.<account-id>" ($t.namespace | toString)) -}}
{{- end -}}
{{- if eq $t.auth "none" -}}
{{- $problems = append $problems "temporal.auth=none: Temporal Cloud needs temporal.auth apiKey or mtls" -}}
{{- end -}}
{{- end -}}
{{- if and (eq $t.auth "apiKey") (not $t.apiKeySecret.name) -}}
{{- $problems = append $problems "temporal.apiKeySecret.name is required with temporal.auth=apiKey (a Secret holding the Temporal API key; create it with kubectl create secret generic)" -}}
{{- end -}}
{{- if and (eq $t.auth "apiKey") (not $t.apiKeySecret.key) -}}
{{- $problems = append $problems "temporal.apiKeySecret.key is required with temporal.auth=apiKey" -}}
{{- end -}}
{{- if and (eq $t.auth "mtls") (not $t.mtlsSecret.name) -}}
{{- $problems = append $problems "temporal.mtlsSecret.name is required with temporal.auth=mtls (a Secret holding the client certificate and key; create it with kubectl create secret tls)" -}}
{{- end -}}
{{- if and (eq $t.auth "mtls") (or (not $t.mtlsSecret.certKey) (not $t.mtlsSecret.keyKey)) -}}
{{- $problems = append $problems "temporal.mtlsSecret.certKey and temporal.mtlsSecret.keyKey are required with temporal.auth=mtls" -}}
{{- end -}}
{{- if not $t.taskQueue -}}
{{- $problems = append $problems "temporal.taskQueue is required" -}}
{{- end -}}
{{- if or (not .Values.secrets.database.name) (not .Values.secrets.database.key) -}}
{{- $problems = append $problems "secrets.database.name and .key are required (the Secret holding DATABASE_URL)" -}}
{{- end -}}
{{- if or (not .Values.secrets.payloadKeys.name) (not .Values.secrets.payloadKeys.key) -}}
{{- $problems = append $problems "secrets.payloadKeys.name and .key are required (the Secret holding FULFILMENT_PAYLOAD_KEYS)" -}}
{{- end -}}
{{- if not (has .Values.providers.mode (list "sandbox" "live")) -}}
{{- $problems = append $problems (printf "providers.mode=%q: want sandbox or live" .Values.providers.mode) -}}
{{- end -}}
{{- if eq .Values.providers.mode "live" -}}
{{- if not .Values.providers.secretName -}}
{{- $problems = append $problems "providers.secretName is required with providers.mode=live (a Secret whose keys are STRIPE_SECRET_KEY, EASYPOST_API_KEY, SENDGRID_API_KEY, ...)" -}}
{{- end -}}
{{- if not .Values.publicURL -}}
{{- $problems = append $problems "publicURL is required with providers.mode=live (STARTER_PUBLIC_URL, the starter's public https base URL)" -}}
{{- end -}}
{{- end -}}
{{- if .Values.ui.enabled -}}
{{- if not .Values.ui.publicURL -}}
{{- $problems = append $problems "ui.publicURL is required with ui.enabled (the Web UI's public base URL, for the OIDC callback and the codec's CORS)" -}}
{{- end -}}
{{- if not .Values.ui.oidc.providerURL -}}
{{- $problems = append $problems "ui.oidc.providerURL is required with ui.enabled (the OIDC issuer of the retailer's SSO)" -}}
{{- end -}}
{{- if not .Values.ui.oidc.clientID -}}
{{- $problems = append $problems "ui.oidc.clientID is required with ui.enabled" -}}
{{- end -}}
{{- if not .Values.ui.oidc.clientSecret.name -}}
{{- $problems = append $problems "ui.oidc.clientSecret.name is required with ui.enabled (a Secret holding the OIDC client secret)" -}}
{{- end -}}
{{- if and (not .Values.ui.codecEndpoint) (not .Values.publicURL) -}}
{{- $problems = append $problems "ui.codecEndpoint or publicURL is required with ui.enabled (the browser calls the starter's /codec endpoint)" -}}
{{- end -}}
{{- if not .Values.starter.oidc.issuer -}}
{{- $problems = append $problems "starter.oidc.issuer is required with ui.enabled (the codec endpoint must accept the token the UI forwards)" -}}
{{- end -}}
{{- if eq $t.auth "apiKey" -}}
{{- $problems = append $problems "ui.enabled with temporal.auth=apiKey: the Temporal UI server cannot authenticate with an API key; use Temporal Cloud's own UI with its codec server setting (docs/helm.md)" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.starter.oidc.issuer (not .Values.starter.oidc.audience) -}}
{{- $problems = append $problems "starter.oidc.audience is required with starter.oidc.issuer" -}}
{{- end -}}
{{- if and .Values.starter.oidc.issuer (not .Values.starter.oidc.supportValues) -}}
{{- $problems = append $problems "starter.oidc.supportValues is required with starter.oidc.issuer (the group or role values that may decode payloads, e.g. fulfilment-support)" -}}
{{- end -}}
{{- if and .Values.starter.ingress.enabled (not .Values.starter.ingress.host) -}}
{{- $problems = append $problems "starter.ingress.host is required with starter.ingress.enabled" -}}
{{- end -}}
{{- if and .Values.ui.enabled .Values.ui.ingress.enabled (not .Values.ui.ingress.host) -}}
{{- $problems = append $problems "ui.ingress.host is required with ui.ingress.enabled" -}}
{{- end -}}
{{- if le (int .Values.worker.terminationGracePeriodSeconds) 30 -}}
{{- $problems = append $problems (printf "worker.terminationGracePeriodSeconds=%v: must exceed worker.stopTimeout (default 30s) so running activities can finish; use 45" .Values.worker.terminationGracePeriodSeconds) -}}
{{- end -}}
{{- if $problems -}}
{{- fail (printf "\n\nfulfilment chart: %d bad or missing value(s):\n  - %s\n" (len $problems) (join "\n  - " $problems)) -}}
{{- end -}}
{{- end -}}

{{/* fulfilment.secretEnv NAME SECRET KEY: an env entry read from a Secret. */}}
{{- define "fulfilment.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .key | quote }}
{{- end -}}

{{/*
fulfilment.optEnvs (list NAME VALUE NAME VALUE ...): plain env entries for the values that
are not empty (empty = the binary's default); prints nothing when all are empty.
*/}}
{{- define "fulfilment.optEnvs" -}}
{{- $out := list -}}
{{- range $i, $name := . -}}
{{- if eq (mod $i 2) 0 -}}
{{- $v := index $ (add1 $i) | toString -}}
{{- if and (ne $v "") (ne $v "<nil>") -}}
{{- $out = append $out (dict "name" $name "value" $v) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $out -}}
{{- toYaml $out -}}
{{- end -}}
{{- end -}}

{{/* fulfilment.temporalEnv: Temporal's envconfig variables. */}}
{{- define "fulfilment.temporalEnv" -}}
{{- $t := .Values.temporal -}}
- name: TEMPORAL_ADDRESS
  value: {{ $t.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ $t.namespace | quote }}
- name: FULFILMENT_TASK_QUEUE
  value: {{ $t.taskQueue | quote }}
{{- if include "fulfilment.temporalTLS" . }}
- name: TEMPORAL_TLS
  value: "true"
{{- end }}
{{- with $t.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if $t.tls.serverCASecret.name }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: /etc/temporal/ca/ca.crt
{{- end }}
{{- if eq $t.auth "apiKey" }}
{{ include "fulfilment.secretEnv" (dict "env" "TEMPORAL_API_KEY" "secret" $t.apiKeySecret.name "key" $t.apiKeySecret.key) }}
{{- end }}
{{- if eq $t.auth "mtls" }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/temporal/tls/tls.crt
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/temporal/tls/tls.key
{{- end }}
{{- end -}}

{{/* fulfilment.commonEnv: what the worker and the starter both read. */}}
{{- define "fulfilment.commonEnv" -}}
{{ include "fulfilment.temporalEnv" . }}
{{ include "fulfilment.secretEnv" (dict "env" "DATABASE_URL" "secret" .Values.secrets.database.name "key" .Values.secrets.database.key) }}
{{ include "fulfilment.secretEnv" (dict "env" "FULFILMENT_PAYLOAD_KEYS" "secret" .Values.secrets.payloadKeys.name "key" .Values.secrets.payloadKeys.key) }}
- name: FULFILMENT_PROVIDERS
  value: {{ .Values.providers.mode | quote }}
{{- $d := .Values.database }}
{{- with include "fulfilment.optEnvs" (list "STARTER_PUBLIC_URL" .Values.publicURL "DATABASE_MAX_CONNS" $d.maxConns "DATABASE_MIN_CONNS" $d.minConns "DATABASE_MAX_CONN_LIFETIME" $d.maxConnLifetime "DATABASE_MAX_CONN_IDLE_TIME" $d.maxConnIdleTime) }}
{{ . }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* fulfilment.providerEnvFrom: the live providers' Secret, keys named like the variables. */}}
{{- define "fulfilment.providerEnvFrom" -}}
{{- if and (eq .Values.providers.mode "live") .Values.providers.secretName }}
envFrom:
  - secretRef:
      name: {{ .Values.providers.secretName | quote }}
{{- end }}
{{- end -}}

{{/* Volumes for the Temporal certificates, the Firebase credentials and /tmp; (dict "root" $ "withFCM" bool). */}}
{{- define "fulfilment.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- $t := .root.Values.temporal }}
{{- if eq $t.auth "mtls" }}
- name: temporal-tls
  secret:
    secretName: {{ $t.mtlsSecret.name | quote }}
    defaultMode: 0440
    items:
      - key: {{ $t.mtlsSecret.certKey | quote }}
        path: tls.crt
      - key: {{ $t.mtlsSecret.keyKey | quote }}
        path: tls.key
{{- end }}
{{- if $t.tls.serverCASecret.name }}
- name: temporal-ca
  secret:
    secretName: {{ $t.tls.serverCASecret.name | quote }}
    defaultMode: 0444
    items:
      - key: {{ $t.tls.serverCASecret.key | quote }}
        path: ca.crt
{{- end }}
{{- if .withFCM }}
{{- if .root.Values.providers.fcmCredentialsSecret.name }}
- name: fcm-credentials
  secret:
    secretName: {{ .root.Values.providers.fcmCredentialsSecret.name | quote }}
    defaultMode: 0440
    items:
      - key: {{ .root.Values.providers.fcmCredentialsSecret.key | quote }}
        path: credentials.json
{{- end }}
{{- end }}
{{- end -}}

{{- define "fulfilment.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if eq .root.Values.temporal.auth "mtls" }}
- name: temporal-tls
  mountPath: /etc/temporal/tls
  readOnly: true
{{- end }}
{{- if .root.Values.temporal.tls.serverCASecret.name }}
- name: temporal-ca
  mountPath: /etc/temporal/ca
  readOnly: true
{{- end }}
{{- if .withFCM }}
{{- if .root.Values.providers.fcmCredentialsSecret.name }}
- name: fcm-credentials
  mountPath: /etc/fulfilment/fcm
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}
