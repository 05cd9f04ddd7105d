//! A tenant's credit account: balance by bucket, and how grants change it.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::events::*;
use crate::MAX_AMOUNT;

/// An account, folded from its stream. The empty account has no credits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    /// Monthly allowance left.
    pub monthly: i64,
    /// Purchased credits left.
    pub purchased: i64,
    /// Credits ever deducted.
    pub consumed: i64,
    /// Credits ever refunded.
    pub refunded: i64,
    /// Credits ever granted.
    pub granted: i64,
}

impl AccountState {
    /// Credits available.
    pub fn total(&self) -> i64 {
        self.monthly + self.purchased
    }

    /// Folds events onto the empty account.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a AccountEvent>) -> Self {
        events.into_iter().fold(AccountState::default(), evolve)
    }

    /// Splits a deduction, monthly credits first (SPEC rule 9).
    ///
    /// # Errors
    /// `InsufficientCredits` when the balance cannot pay all of it.
    pub fn split_deduction(&self, amount: i64) -> Result<BucketSplit, DomainError> {
        if amount > self.total() {
            return Err(DomainError::InsufficientCredits {
                required: amount,
                available: self.total(),
            });
        }
        let monthly = amount.min(self.monthly);
        Ok(BucketSplit {
            monthly,
            purchased: amount - monthly,
        })
    }
}

/// Applies one event. The `*_after` balances the event carries are the
/// ledger's word, so the state takes them as they are.
pub fn evolve(state: AccountState, event: &AccountEvent) -> AccountState {
    match event {
        AccountEvent::CreditsGranted(grant) => AccountState {
            monthly: grant.monthly_after,
            purchased: grant.purchased_after,
            granted: state.granted + grant.amount,
            ..state
        },
        AccountEvent::CreditsDeducted(deduction) => AccountState {
            monthly: deduction.monthly_after,
            purchased: deduction.purchased_after,
            consumed: state.consumed + deduction.amount,
            ..state
        },
        AccountEvent::CreditsRefunded(refund) => AccountState {
            monthly: refund.monthly_after,
            purchased: refund.purchased_after,
            refunded: state.refunded + refund.amount,
            ..state
        },
    }
}

/// Commands on an account stream alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCommand {
    /// Add credits to a bucket.
    Grant {
        /// Bucket to credit.
        bucket: Bucket,
        /// Credits, 1..=`MAX_AMOUNT`.
        amount: i64,
        /// Why.
        reason: Option<String>,
    },
}

/// Decides the events of an account command.
///
/// # Errors
/// `InvalidInput` for an amount out of range or a balance that would overflow it.
pub fn decide(
    state: &AccountState,
    command: &AccountCommand,
) -> Result<Vec<AccountEvent>, DomainError> {
    match command {
        AccountCommand::Grant {
            bucket,
            amount,
            reason,
        } => {
            validate_amount(*amount)?;
            let (mut monthly, mut purchased) = (state.monthly, state.purchased);
            let credited = match bucket {
                Bucket::Monthly => &mut monthly,
                Bucket::Purchased => &mut purchased,
            };
            *credited += amount;
            if *credited > MAX_AMOUNT {
                return Err(DomainError::invalid(
                    "amount",
                    format!("the bucket's balance may not exceed {MAX_AMOUNT}"),
                ));
            }
            Ok(vec![AccountEvent::CreditsGranted(CreditsGranted {
                bucket: *bucket,
                amount: *amount,
                reason: reason.clone(),
                monthly_after: monthly,
                purchased_after: purchased,
            })])
        }
    }
}

/// Checks a credit amount is positive and at most `MAX_AMOUNT`.
///
/// # Errors
/// `InvalidInput` naming `amount`.
pub fn validate_amount(amount: i64) -> Result<(), DomainError> {
    if (1..=MAX_AMOUNT).contains(&amount) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "amount",
            format!("must be between 1 and {MAX_AMOUNT}"),
        ))
    }
}
