{{/* Names, labels and the flag strings built from values (one place for each mapping). */}}

{{- define "altostack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "altostack.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains (include "altostack.name" .) .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "altostack.name" .) | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "altostack.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "altostack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: altostack
{{- end -}}

{{/* Selector labels of one component: include "altostack.selectorLabels" (list . "operator") */}}
{{- define "altostack.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "altostack.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "altostack.operatorServiceAccount" -}}{{ include "altostack.fullname" . }}-operator{{- end -}}
{{- define "altostack.facadeServiceAccount" -}}{{ include "altostack.fullname" . }}-facade{{- end -}}

{{- define "altostack.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* --physnets: name:bridge[:min-max], one entry per VLAN range (the operator merges repeated names). */}}
{{- define "altostack.physnets" -}}
{{- $entries := list -}}
{{- range .Values.networking.physnets -}}
{{- $physnet := . -}}
{{- if .vlanRanges -}}
{{- range .vlanRanges -}}
{{- $entries = append $entries (printf "%s:%s:%s" $physnet.name $physnet.bridge .) -}}
{{- end -}}
{{- else -}}
{{- $entries = append $entries (printf "%s:%s" .name .bridge) -}}
{{- end -}}
{{- end -}}
{{- join "," $entries -}}
{{- end -}}

{{/* Volume types as `name[=storageClass[:snapshotClass]]` items, the syntax both processes parse. */}}
{{- define "altostack.volumeTypeItems" -}}
{{- $items := list -}}
{{- range .Values.storage.volumeTypes -}}
{{- if .snapshotClass -}}
{{- $items = append $items (printf "%s=%s:%s" .name (.storageClass | default "") .snapshotClass) -}}
{{- else if .storageClass -}}
{{- $items = append $items (printf "%s=%s" .name .storageClass) -}}
{{- else -}}
{{- $items = append $items .name -}}
{{- end -}}
{{- end -}}
{{- toJson $items -}}
{{- end -}}

{{/* The hardened pod and container security contexts (restricted Pod Security Standard). */}}
{{- define "altostack.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "altostack.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "altostack.adminSecretName" -}}
{{- if .Values.facade.admin.existingSecret -}}
{{- .Values.facade.admin.existingSecret -}}
{{- else if .Values.facade.admin.password -}}
{{- include "altostack.fullname" . }}-admin
{{- end -}}
{{- end -}}
