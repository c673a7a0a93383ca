// One schema for both backends, in the SQL types they share.

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    departments (code) {
        code -> Text,
        name -> Text,
        region_code -> Text,
        population -> Nullable<BigInt>,
    }
}

diesel::table! {
    communes (insee_code) {
        insee_code -> Text,
        name -> Text,
        department_code -> Text,
        region_code -> Text,
        postal_codes -> Text,
        population -> Nullable<BigInt>,
    }
}

diesel::table! {
    reference_datasets (name) {
        name -> Text,
        checksum -> Text,
        row_count -> BigInt,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    structures (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        name_folded -> Text,
        legal_name -> Nullable<Text>,
        siret -> Nullable<Text>,
        disciplines -> Text,
        licences -> Text,
        street -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        city -> Nullable<Text>,
        commune_code -> Nullable<Text>,
        department_code -> Nullable<Text>,
        region_code -> Nullable<Text>,
        country -> Nullable<Text>,
        website -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    structure_disciplines (structure_id, discipline) {
        structure_id -> Text,
        discipline -> Text,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(structure_disciplines -> structures (structure_id));
diesel::allow_tables_to_appear_in_same_query!(
    regions,
    departments,
    communes,
    reference_datasets,
    structures,
    structure_disciplines,
    idempotency_keys,
);

diesel::table! {
    accounts (id) {
        id -> Text,
        email -> Text,
        email_normalized -> Text,
        display_name -> Text,
        password_hash -> Text,
        status -> Text,
        agency_role -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        session_epoch -> BigInt,
        language -> Text,
        email_verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (account_id, structure_id) {
        account_id -> Text,
        structure_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        account_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(memberships -> accounts (account_id));
diesel::joinable!(memberships -> structures (structure_id));
diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, memberships, refresh_tokens, structures);

diesel::table! {
    join_requests (structure_id, account_id) {
        account_id -> Text,
        structure_id -> Text,
        message -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(join_requests -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, join_requests);

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_client_structures (client_id, structure_id) {
        client_id -> Text,
        structure_id -> Text,
    }
}

diesel::joinable!(api_client_structures -> api_clients (client_id));
diesel::allow_tables_to_appear_in_same_query!(api_clients, api_client_structures, memberships);
diesel::allow_tables_to_appear_in_same_query!(api_clients, accounts);
diesel::allow_tables_to_appear_in_same_query!(api_client_structures, accounts);

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        request_id -> Text,
        changed_fields -> Text,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        structure_id -> Text,
        email_normalized -> Text,
        role -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(invitations -> structures (structure_id));
diesel::allow_tables_to_appear_in_same_query!(invitations, structures);

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        object_type -> Text,
        object_id -> Text,
        action -> Text,
        version -> BigInt,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        snapshot -> Nullable<Text>,
        is_public -> Bool,
        was_public -> Bool,
        cause -> Nullable<Text>,
    }
}

diesel::table! {
    change_structures (seq, structure_id) {
        seq -> BigInt,
        structure_id -> Text,
        concerned_now -> Bool,
    }
}

diesel::joinable!(change_structures -> changes (seq));
diesel::allow_tables_to_appear_in_same_query!(changes, change_structures, memberships);

diesel::table! {
    productions (id) {
        id -> Text,
        structure_id -> Text,
        title -> Text,
        disciplines -> Text,
        audience -> Text,
        minimum_age -> Nullable<BigInt>,
        duration_minutes -> BigInt,
        space -> Text,
        premiere_date -> Nullable<Date>,
        team_size -> Nullable<BigInt>,
        description -> Nullable<Text>,
        links -> Text,
        published -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    production_disciplines (production_id, discipline) {
        production_id -> Text,
        discipline -> Text,
    }
}

diesel::table! {
    tours (id) {
        id -> Text,
        production_id -> Text,
        name -> Text,
        starts_on -> Date,
        ends_on -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    performances (id) {
        id -> Text,
        production_id -> Nullable<Text>,
        company_structure_id -> Nullable<Text>,
        show_title -> Nullable<Text>,
        show_company_name -> Nullable<Text>,
        show_discipline -> Nullable<Text>,
        venue_structure_id -> Nullable<Text>,
        place_name -> Nullable<Text>,
        place_city -> Nullable<Text>,
        commune_code -> Nullable<Text>,
        department_code -> Nullable<Text>,
        region_code -> Nullable<Text>,
        country_code -> Nullable<Text>,
        starts_at -> Timestamp,
        time_zone -> Text,
        status -> Text,
        booking -> Text,
        fee_cents -> Nullable<BigInt>,
        capacity -> Nullable<BigInt>,
        attendance -> Nullable<BigInt>,
        ticketing_url -> Nullable<Text>,
        accessibility -> Text,
        tour_id -> Nullable<Text>,
        published -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(productions -> structures (structure_id));
diesel::joinable!(production_disciplines -> productions (production_id));
diesel::joinable!(tours -> productions (production_id));
diesel::joinable!(performances -> tours (tour_id));
diesel::allow_tables_to_appear_in_same_query!(
    productions,
    production_disciplines,
    tours,
    performances
);
diesel::allow_tables_to_appear_in_same_query!(productions, structures);
diesel::allow_tables_to_appear_in_same_query!(productions, memberships);
diesel::allow_tables_to_appear_in_same_query!(tours, memberships);
diesel::allow_tables_to_appear_in_same_query!(performances, memberships);
diesel::allow_tables_to_appear_in_same_query!(performances, structures);
diesel::allow_tables_to_appear_in_same_query!(performances, communes);
diesel::allow_tables_to_appear_in_same_query!(performances, accounts);

diesel::table! {
    performance_external_ids (client_id, external_id) {
        client_id -> Text,
        external_id -> Text,
        performance_id -> Text,
    }
}

diesel::joinable!(performance_external_ids -> performances (performance_id));
diesel::allow_tables_to_appear_in_same_query!(performance_external_ids, performances);

diesel::table! {
    programmes (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        description -> Nullable<Text>,
        kind -> Text,
        published -> Bool,
        rules -> Text,
        review_criteria -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    calls (id) {
        id -> Text,
        programme_id -> Text,
        title -> Text,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        committee_date -> Nullable<Date>,
        envelope_cents -> BigInt,
        awarded_cents -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(calls -> programmes (programme_id));
diesel::allow_tables_to_appear_in_same_query!(programmes, calls);

diesel::table! {
    dossier_counters (programme_id, year) {
        programme_id -> Text,
        year -> Integer,
        last_number -> BigInt,
    }
}

diesel::table! {
    dossiers (id) {
        id -> Text,
        reference -> Text,
        call_id -> Text,
        programme_id -> Text,
        applicant_id -> Text,
        status -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        performance_ids -> Text,
        answers -> Text,
        budget -> Text,
        awarded_cents -> Nullable<BigInt>,
        submitted_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        listed -> Nullable<Text>,
        listed_format -> Integer,
        listed_version -> BigInt,
    }
}

diesel::joinable!(dossiers -> calls (call_id));
diesel::allow_tables_to_appear_in_same_query!(dossiers, calls);
diesel::allow_tables_to_appear_in_same_query!(dossiers, programmes);
diesel::allow_tables_to_appear_in_same_query!(dossiers, memberships);

diesel::table! {
    dossier_events (id) {
        id -> Text,
        dossier_id -> Text,
        action -> Text,
        from_status -> Text,
        to_status -> Text,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        awarded_cents -> Nullable<BigInt>,
        occurred_at -> Timestamp,
    }
}

diesel::joinable!(dossier_events -> dossiers (dossier_id));
diesel::allow_tables_to_appear_in_same_query!(dossier_events, dossiers);

diesel::table! {
    dossier_payment_plans (dossier_id) {
        dossier_id -> Text,
        advance_basis_points -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dossier_payments (id) {
        id -> Text,
        dossier_id -> Text,
        kind -> Nullable<Text>,
        amount_cents -> BigInt,
        paid_on -> Date,
        reference -> Text,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    final_reports (dossier_id) {
        dossier_id -> Text,
        status -> Text,
        held -> Text,
        budget -> Text,
        comment -> Nullable<Text>,
        submitted_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    final_report_events (id) {
        id -> Text,
        dossier_id -> Text,
        action -> Text,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    dossier_awards (dossier_id, performance_id) {
        dossier_id -> Text,
        performance_id -> Text,
        programme_id -> Text,
        applicant_id -> Text,
        presenter_id -> Nullable<Text>,
        year -> Integer,
        aid_cents -> BigInt,
    }
}

diesel::table! {
    dossier_attention (id) {
        id -> Text,
        dossier_id -> Text,
        kind -> Text,
        performance_id -> Text,
        raised_at -> Timestamp,
        cleared_at -> Nullable<Timestamp>,
        cleared_by -> Nullable<Text>,
    }
}

diesel::table! {
    dossier_documents (id) {
        id -> Text,
        dossier_id -> Text,
        kind -> Text,
        file_name -> Text,
        format -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        uploaded_by_kind -> Text,
        uploaded_by_id -> Nullable<Text>,
        uploaded_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(dossier_documents -> dossiers (dossier_id));
diesel::allow_tables_to_appear_in_same_query!(dossier_documents, dossiers);

diesel::table! {
    dossier_messages (id) {
        id -> Text,
        dossier_id -> Text,
        author_side -> Text,
        author_kind -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dossier_notes (id) {
        id -> Text,
        dossier_id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dossier_reviews (id) {
        id -> Text,
        dossier_id -> Text,
        reviewer_id -> Text,
        status -> Text,
        scores -> Text,
        comment -> Nullable<Text>,
        conflict_reason -> Nullable<Text>,
        assigned_by -> Text,
        assigned_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(dossier_messages -> dossiers (dossier_id));
diesel::joinable!(dossier_notes -> dossiers (dossier_id));
diesel::joinable!(dossier_reviews -> dossiers (dossier_id));
diesel::allow_tables_to_appear_in_same_query!(dossier_reviews, dossiers);

// A dossier's call, programme and applicant are read together for its rules
// (`grants::context`).
diesel::allow_tables_to_appear_in_same_query!(calls, structures);
diesel::allow_tables_to_appear_in_same_query!(programmes, structures);

diesel::table! {
    webhooks (id) {
        id -> Text,
        owner_kind -> Text,
        owner_id -> Text,
        url -> Text,
        event_types -> Text,
        structure_ids -> Text,
        description -> Nullable<Text>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret_sealed -> Text,
        previous_secret_sealed -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        from_seq -> BigInt,
        failed_in_a_row -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        message_id -> Text,
        event_type -> Text,
        object_key -> Text,
        seq -> BigInt,
        payload -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_status_code -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        last_latency_ms -> Nullable<BigInt>,
        last_attempt_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_dispatch (name) {
        name -> Text,
        after_seq -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);

diesel::table! {
    email_verifications (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Binary,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(email_verifications -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, email_verifications);

// A signed-in account's read of a dossier takes its standing, the dossier, its context
// and the account's role in the applicant in one statement (`grants::context`).
diesel::allow_tables_to_appear_in_same_query!(accounts, dossiers);
diesel::allow_tables_to_appear_in_same_query!(accounts, calls);
diesel::allow_tables_to_appear_in_same_query!(accounts, programmes);
diesel::allow_tables_to_appear_in_same_query!(dossiers, structures);
diesel::allow_tables_to_appear_in_same_query!(calls, memberships);
diesel::allow_tables_to_appear_in_same_query!(programmes, memberships);
