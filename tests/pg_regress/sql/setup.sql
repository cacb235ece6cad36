CREATE EXTENSION support_kpi;
