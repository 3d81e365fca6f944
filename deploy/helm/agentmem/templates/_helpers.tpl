{{- define "agentmem.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agentmem.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "agentmem.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentmem.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "agentmem.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "agentmem.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "agentmem.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "agentmem.secretName" -}}
{{- default (printf "%s-secrets" (include "agentmem.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Environment shared by the server and the backup job. */}}
{{- define "agentmem.env" -}}
- name: AGENTMEM_NEO4J_URI
  value: {{ required "backends.neo4j.uri is required" .Values.backends.neo4j.uri | quote }}
- name: AGENTMEM_NEO4J_USER
  value: {{ .Values.backends.neo4j.user | quote }}
{{- with .Values.backends.neo4j.database }}
- name: AGENTMEM_NEO4J_DATABASE
  value: {{ . | quote }}
{{- end }}
- name: AGENTMEM_WEAVIATE_URL
  value: {{ required "backends.weaviate.url is required" .Values.backends.weaviate.url | quote }}
- name: AGENTMEM_WEAVIATE_GRPC_PORT
  value: {{ .Values.backends.weaviate.grpcPort | quote }}
- name: AGENTMEM_REDIS_URL
  value: {{ required "backends.redis.url is required" .Values.backends.redis.url | quote }}
{{- range $name, $value := .Values.config }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- if .Values.tracing.enabled }}
- name: OTEL_SERVICE_NAME
  value: {{ include "agentmem.fullname" . }}
- name: OTEL_TRACES_EXPORTER
  value: otlp
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.tracing.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .Values.tracing.protocol | quote }}
{{- end }}
{{- end -}}

{{- define "agentmem.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "agentmem.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
