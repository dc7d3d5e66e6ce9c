// Shapes of kefud's JSON, as described by GET /api/v1/meta and /api/openapi.json.

export type FieldType =
  | 'string' | 'text' | 'integer' | 'money' | 'boolean' | 'date' | 'datetime'
  | 'enum' | 'dict' | 'ref' | 'json';

export interface OptionLabel { value: string; label_zh: string; label_en: string }

export interface FieldMeta {
  name: string;
  type: FieldType;
  label_zh: string;
  label_en: string;
  required: boolean;
  unique: boolean;
  searchable: boolean;
  sortable: boolean;
  filterable: boolean;
  readonly: boolean;
  max_length?: number;
  min?: number;
  max?: number;
  options?: string[];
  option_labels?: OptionLabel[];
  dict_type?: string;
  ref_entity?: string;
  pattern?: string;
  default?: unknown;
}

export type EntityAction = 'read' | 'create' | 'update' | 'archive' | 'export' | 'import' | 'review1' | 'review2';

export interface EntityMeta {
  name: string;
  label_zh: string;
  label_en: string;
  menu: string;
  title_field: string;
  default_sort: string;
  review_steps: number;
  scoped: boolean;
  fields: FieldMeta[];
  actions: EntityAction[];
}

export type Rec = Record<string, unknown> & { id: number; version: number; archived?: boolean };

export interface Page<T = Rec> { items: T[]; total: number; page: number; page_size: number }

export interface Me {
  id: number;
  username: string;
  name: string;
  org_id: number;
  data_scope: string;
  permissions: string[];
  must_change_password: boolean;
}

export interface ChangeRequest {
  id: number;
  kind: string;
  permission: string;
  record_id: number | null;
  action: 'create' | 'update' | 'archive' | 'grant' | string;
  payload: Record<string, unknown>;
  base_version: number;
  steps: number;
  status: 'pending' | 'first_approved' | 'approved' | 'rejected' | string;
  org_id: number | null;
  submitted_by: number;
  submitted_at: number;
  first_by: number | null;
  first_at: number | null;
  first_comment: string | null;
  final_by: number | null;
  final_at: number | null;
  final_comment: string | null;
  result_id: number | null;
  submitted_by_name: string | null;
  first_by_name: string | null;
  final_by_name: string | null;
  can_decide?: boolean;
}

export interface FieldErrorDetail { field: string; code: string; message: string }

export interface PermissionItem { code: string; label_zh: string; label_en: string; group: string }

export interface AuditEntry {
  id: number;
  at: number;
  actor_id: number;
  actor_name: string;
  client_ip: string;
  request_id: string;
  entity: string;
  entity_id: number;
  action: string;
  diff: Record<string, unknown> | null;
  hash: string;
}
