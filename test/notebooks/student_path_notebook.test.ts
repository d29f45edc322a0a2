/** The student's path in Notebook 7, which `GENLAB_JUPYTER_APP=notebook npm start` opens (student_path.ts). */
import { describeStudentPath } from './student_path';

describeStudentPath('notebook');
