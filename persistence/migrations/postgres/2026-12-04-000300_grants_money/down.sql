DROP TABLE dossier_attention;
DROP TABLE dossier_awards;
DROP TABLE final_report_events;
DROP TABLE final_reports;
DROP TABLE dossier_payments;
DROP TABLE dossier_payment_plans;
