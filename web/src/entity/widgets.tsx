import type { ComponentType } from 'react';
import type { FieldMeta, Rec } from '../api/types';
import { PermissionPicker } from '../admin/PermissionPicker';
import { ExtFieldsInput } from '../admin/ExtFieldsInput';

export interface WidgetProps {
  field: FieldMeta;
  record?: Rec;
  id?: string;
  value?: unknown;
  onChange?: (v: unknown) => void;
}

// Fields whose generic control (JSON text) would be unusable get a purpose-built one.
// Everything else, including any entity added to the registry later, uses FieldInput.
const widgets: Record<string, ComponentType<WidgetProps>> = {
  'role.permissions': PermissionPicker,
  'staff.ext': ExtFieldsInput,
};

export function widgetFor(entity: string, field: string): ComponentType<WidgetProps> | undefined {
  return widgets[`${entity}.${field}`];
}
