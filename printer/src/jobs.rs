//! The driver's print jobs, without I/O: which job goes out next, which are done, which
//! waited too long. The service does the broker and the serial port; each job is
//! acknowledged by the packet id it came with once this queue is done with it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::spool::JobState;

/// A job as the driver holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The broker's packet id, to acknowledge it by.
    pub pkid: u16,
    /// Unique to this printing (`PrintJob::key`).
    pub job: String,
    pub ticket: String,
    pub label: String,
    pub bytes: Vec<u8>,
    pub received: Instant,
}

/// What became of a job offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// It waits its turn.
    Queued,
    /// Already in the queue (a redelivery): acknowledge this copy.
    AlreadyQueued,
    /// The spool knows it: printed, or its printing began. Acknowledge it, print nothing.
    Spooled(JobState),
}

#[derive(Debug)]
pub struct JobQueue {
    jobs: VecDeque<Job>,
    /// The front job is at the printer: it stays in place until its answer.
    printing: bool,
    drop_after: Duration,
}

impl JobQueue {
    /// Jobs not printed within `drop_after` of their arrival are dropped.
    pub fn new(drop_after: Duration) -> JobQueue {
        JobQueue {
            jobs: VecDeque::new(),
            printing: false,
            drop_after,
        }
    }

    /// A job delivered; `spooled` is what the spool says of its key.
    pub fn offer(&mut self, job: Job, spooled: Option<JobState>) -> Offered {
        if let Some(state) = spooled {
            return Offered::Spooled(state);
        }
        if self.jobs.iter().any(|j| j.job == job.job) {
            return Offered::AlreadyQueued;
        }
        self.jobs.push_back(job);
        Offered::Queued
    }

    /// The job to send to the printer now, if one waits and none is there.
    pub fn to_print(&mut self) -> Option<&Job> {
        if self.printing {
            return None;
        }
        let job = self.jobs.front()?;
        self.printing = true;
        Some(job)
    }

    /// The printer's answer for the job sent: it is done (printed or unsure) and leaves.
    pub fn done(&mut self) -> Option<Job> {
        if !std::mem::take(&mut self.printing) {
            return None;
        }
        self.jobs.pop_front()
    }

    /// The printer could not take the job sent: it waits at the front.
    pub fn not_started(&mut self) {
        self.printing = false;
    }

    /// Jobs that waited longer than `drop_after` at `now`, oldest first; never the one at
    /// the printer.
    pub fn expired(&mut self, now: Instant) -> Vec<Job> {
        let keep = usize::from(self.printing);
        let mut expired = Vec::new();
        while self.jobs.len() > keep {
            let old = self.jobs[keep].received + self.drop_after <= now;
            if !old {
                break;
            }
            expired.extend(self.jobs.remove(keep));
        }
        expired
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The job at the printer, waiting for its answer.
    pub fn printing(&self) -> Option<&Job> {
        self.jobs.front().filter(|_| self.printing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DROP: Duration = Duration::from_secs(60);

    fn job(key: &str, received: Instant) -> Job {
        Job {
            pkid: key.len() as u16,
            job: key.into(),
            ticket: key.into(),
            label: key.into(),
            bytes: key.as_bytes().to_vec(),
            received,
        }
    }

    #[test]
    fn jobs_go_out_one_at_a_time_in_order() {
        let t = Instant::now();
        let mut q = JobQueue::new(DROP);
        assert_eq!(q.offer(job("a", t), None), Offered::Queued);
        assert_eq!(q.offer(job("b", t), None), Offered::Queued);
        assert_eq!(q.to_print().map(|j| j.job.clone()), Some("a".into()));
        assert!(q.to_print().is_none(), "one at the printer at a time");
        assert_eq!(q.done().map(|j| j.job), Some("a".into()));
        assert_eq!(q.to_print().map(|j| j.job.clone()), Some("b".into()));
        assert_eq!(q.done().map(|j| j.job), Some("b".into()));
        assert!(q.is_empty() && q.done().is_none());
    }

    #[test]
    fn a_job_the_printer_could_not_take_waits_at_the_front() {
        let t = Instant::now();
        let mut q = JobQueue::new(DROP);
        q.offer(job("a", t), None);
        q.offer(job("b", t), None);
        q.to_print();
        q.not_started();
        assert_eq!(q.to_print().map(|j| j.job.clone()), Some("a".into()));
    }

    #[test]
    fn a_job_already_spooled_is_acknowledged_and_not_printed() {
        let t = Instant::now();
        let mut q = JobQueue::new(DROP);
        for state in [JobState::Printed, JobState::Started, JobState::Unsure] {
            assert_eq!(q.offer(job("a", t), Some(state)), Offered::Spooled(state));
        }
        assert!(q.is_empty() && q.to_print().is_none());
    }

    #[test]
    fn a_redelivered_job_is_queued_once() {
        let t = Instant::now();
        let mut q = JobQueue::new(DROP);
        q.offer(job("a", t), None);
        assert_eq!(q.offer(job("a", t), None), Offered::AlreadyQueued);
        q.to_print();
        q.done();
        assert!(q.is_empty());
    }

    #[test]
    fn expired_jobs_are_dropped_oldest_first_but_never_the_one_printing() {
        let t = Instant::now();
        let mut q = JobQueue::new(DROP);
        q.offer(job("a", t), None);
        q.offer(job("b", t + Duration::from_secs(10)), None);
        q.offer(job("c", t + Duration::from_secs(50)), None);
        q.to_print(); // "a" is at the printer
        let later = t + Duration::from_secs(75);
        let dropped: Vec<String> = q.expired(later).into_iter().map(|j| j.job).collect();
        assert_eq!(dropped, ["b"], "c is 25 s old; a is printing");
        assert_eq!(q.done().map(|j| j.job), Some("a".into()));
        assert!(q.expired(later).is_empty());
        let dropped: Vec<String> = q
            .expired(t + Duration::from_secs(110))
            .into_iter()
            .map(|j| j.job)
            .collect();
        assert_eq!(dropped, ["c"]);
    }
}
